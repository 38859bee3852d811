"""Row-count check: fails the job run when today's partition looks empty."""
from awsglue.context import GlueContext
from pyspark.context import SparkContext
from pyspark.sql import functions as F

glueContext = GlueContext(SparkContext.getOrCreate())

loans = glueContext.create_dynamic_frame.from_catalog(database="ref_db", table_name="dim_loan").toDF()
active = loans.where(F.col("loan_status") == "ACTIVE")
count = active.count()

if count == 0:
    raise RuntimeError("no active loans in ref_db.dim_loan")
print(f"active loans: {count}")
