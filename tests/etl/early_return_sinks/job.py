import sys
from awsglue.context import GlueContext
from pyspark.context import SparkContext

glue = GlueContext(SparkContext.getOrCreate())
spark = glue.spark_session


def publish(df, full_load):
    if full_load:
        df.write.mode("overwrite").saveAsTable("analytics_db.loans_full")
        return
    df.write.mode("append").saveAsTable("analytics_db.loans_delta")


def main():
    loans = spark.table("raw_db.loans")
    if loans.rdd.isEmpty():
        return
    publish(loans.filter("status = 'ACTIVE'"), sys.argv[-1] == "full")


main()
