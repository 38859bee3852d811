from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
spark.table("raw_db.loans").filter("status = 'ACTIVE'").createOrReplaceTempView("active_loans")
spark.read.parquet("s3://lake/raw/payments/").createOrReplaceTempView("payments")
out = spark.sql("SELECT a.loan_id, SUM(p.amount) AS paid FROM active_loans a JOIN payments p ON a.loan_id = p.loan_id GROUP BY a.loan_id")
out.write.mode("overwrite").saveAsTable("analytics_db.loan_paid")
