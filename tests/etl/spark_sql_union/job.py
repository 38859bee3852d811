from pyspark.sql import SparkSession

spark = SparkSession.builder.enableHiveSupport().getOrCreate()

spark.sql("""
CREATE TABLE IF NOT EXISTS finance.all_invoices AS
SELECT invoice_id, customer_id, amount, 'EU' AS region FROM billing_eu.invoices WHERE amount IS NOT NULL
UNION ALL
SELECT invoice_no AS invoice_id, cust_id AS customer_id, total_amount AS amount, 'US' AS region FROM billing_us.invoices
""")
