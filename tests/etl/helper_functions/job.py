import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def read_catalog(glue_context, database, table):
    """Reads a catalog table as a DataFrame."""
    return glue_context.create_dynamic_frame.from_catalog(database=database, table_name=table).toDF()


def add_audit_columns(df: DataFrame, job_name) -> DataFrame:
    return df.withColumn("etl_job", F.lit(job_name)).withColumn("etl_loaded_at", F.current_timestamp())


def clean_customers(df):
    cleaned = df.withColumn("email", F.lower(F.trim(F.col("email"))))
    return cleaned.dropDuplicates(["customer_id"])


def main():
    args = getResolvedOptions(sys.argv, ["JOB_NAME"])
    glue_context = GlueContext(SparkContext.getOrCreate())
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)

    customers = read_catalog(glue_context, "crm_raw", "customers")
    customers = clean_customers(customers)
    customers = add_audit_columns(customers, args["JOB_NAME"])
    customers.select("customer_id", "email", "country", "etl_job", "etl_loaded_at").write.mode("overwrite").saveAsTable(
        "ref_db.dim_customer"
    )
    job.commit()


if __name__ == "__main__":
    main()
