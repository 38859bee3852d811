from pyspark.sql import SparkSession
from pyspark.sql.functions import col, when, upper, trim

spark = SparkSession.builder.getOrCreate()

orders = spark.table("sales_curated.orders").alias("o")
customers = spark.table("crm_curated.customers").alias("c")

joined = orders.join(customers, col("o.customer_id") == col("c.customer_id"), how="left")

result = joined.select(
    col("o.order_id"),
    col("o.customer_id"),
    upper(trim(col("c.country"))).alias("country"),
    when(col("c.tier") == "GOLD", "priority").when(col("c.tier") == "SILVER", "standard").otherwise("basic").alias("service_level"),
    col("o.order_total").cast("decimal(14,2)").alias("order_total"),
)

result.write.insertInto("sales_marts.orders_with_customer", overwrite=True)
