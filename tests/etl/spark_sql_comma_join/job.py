from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
result = spark.sql("""
    SELECT l.loan_id, l.customer_id, p.amount
    FROM raw_db.loans l, raw_db.payments p
    WHERE l.loan_id = p.loan_id AND p.amount > 0
""")
result.write.mode("overwrite").saveAsTable("analytics_db.loan_amounts")
