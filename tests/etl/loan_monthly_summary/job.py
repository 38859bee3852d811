from pyspark.sql import SparkSession
from pyspark.sql import functions as F

spark = SparkSession.builder.getOrCreate()

fact = spark.table("analytics_db.loan_repayment_fact")
monthly = (
    fact.where("status = 'SUCCESS'")
    .groupBy("loan_id", F.date_trunc("month", F.col("payment_date")).alias("month"))
    .agg(F.sum("emi_amount").alias("paid_amount"), F.count("*").alias("payments"))
)
monthly.write.mode("overwrite").saveAsTable("analytics_db.loan_monthly_summary")
