from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()

updates = spark.read.parquet("s3://acme-landing/billing/subscription_changes/")
updates.createOrReplaceTempView("changes")

spark.sql("""
MERGE INTO billing_curated.subscriptions t
USING changes s
ON t.subscription_id = s.subscription_id
WHEN MATCHED THEN UPDATE SET t.plan = s.plan, t.updated_at = s.changed_at
WHEN NOT MATCHED THEN INSERT (subscription_id, plan, updated_at) VALUES (s.subscription_id, s.plan, s.changed_at)
""")
