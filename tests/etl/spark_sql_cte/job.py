import sys

from awsglue.context import GlueContext
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "run_date"])
glueContext = GlueContext(SparkContext.getOrCreate())
spark = glueContext.spark_session

spark.sql(f"""
INSERT OVERWRITE TABLE marts.daily_merchant_sales
WITH settled AS (
    SELECT t.txn_id,
           t.merchant_id,
           CAST(t.amount AS DECIMAL(12, 2)) AS amount,
           to_date(t.settled_at) AS settle_date
    FROM payments_raw.transactions t
    WHERE t.status = 'SETTLED'
      AND to_date(t.settled_at) = DATE '{args['run_date']}'
),
merchants AS (
    SELECT merchant_id, merchant_name, COALESCE(mcc, 'UNKNOWN') AS mcc
    FROM ref.merchants
)
SELECT s.settle_date,
       m.merchant_id,
       m.merchant_name,
       m.mcc,
       SUM(s.amount) AS gross_amount,
       COUNT(DISTINCT s.txn_id) AS txn_count
FROM settled s
JOIN merchants m ON s.merchant_id = m.merchant_id
GROUP BY s.settle_date, m.merchant_id, m.merchant_name, m.mcc
""")
