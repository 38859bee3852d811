from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()

query = """
WITH ranked AS (
    SELECT *,
           ROW_NUMBER() OVER (PARTITION BY account_id, snapshot_date ORDER BY loaded_at DESC) AS rn
    FROM core_raw.account_balances
)
SELECT account_id,
       snapshot_date,
       balance,
       currency
FROM ranked
WHERE rn = 1
"""

balances = spark.sql(query)
balances.write.mode("overwrite").saveAsTable("core_curated.account_balances")
