"""Loan repayments fact: one row per loan repayment (EMI).

Reads raw payments and the loan and customer dimensions, keeps settled and
pending payments, de-duplicates replayed events and writes the curated fact.
"""
import sys

from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from awsglue.job import Job
from awsglue.transforms import ApplyMapping
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import Window
from pyspark.sql import functions as F

args = getResolvedOptions(sys.argv, ["JOB_NAME"])
sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

raw_payments = glueContext.create_dynamic_frame.from_catalog(
    database="raw_db",
    table_name="raw_payments",
    transformation_ctx="raw_payments",
)

payments = ApplyMapping.apply(
    frame=raw_payments,
    mappings=[
        ("payment_id", "string", "payment_id", "string"),
        ("loan_id", "string", "loan_id", "string"),
        ("paid_on", "string", "payment_date", "date"),
        ("amount", "string", "emi_amount", "double"),
        ("payment_status", "string", "payment_status", "string"),
        ("ingested_at", "string", "ingested_at", "timestamp"),
    ],
    transformation_ctx="payments",
).toDF()

payments = payments.filter(F.col("payment_status").isin("SUCCESS", "FAILED", "PENDING"))

loans = (
    glueContext.create_dynamic_frame.from_catalog(database="ref_db", table_name="dim_loan")
    .toDF()
    .select("loan_id", "customer_id", "product_code")
)
customers = spark.table("ref_db.dim_customer").select("customer_id", "segment")

enriched = payments.join(loans, on="loan_id", how="inner").join(customers, "customer_id", "left")

latest = Window.partitionBy("loan_id", "payment_date").orderBy(F.col("ingested_at").desc())
deduped = (
    enriched.withColumn("rn", F.row_number().over(latest))
    .filter(F.col("rn") == 1)
    .drop("rn")
)

fact = deduped.select(
    "loan_id",
    "customer_id",
    "payment_date",
    F.col("emi_amount").cast("decimal(12,2)").alias("emi_amount"),
    F.col("payment_status").alias("status"),
    F.coalesce(F.col("segment"), F.lit("UNKNOWN")).alias("customer_segment"),
    F.current_timestamp().alias("created_at"),
)

glueContext.write_dynamic_frame.from_catalog(
    frame=DynamicFrame.fromDF(fact, glueContext, "fact"),
    database="analytics_db",
    table_name="loan_repayment_fact",
    additional_options={"partitionKeys": ["payment_date"]},
)
job.commit()
