from pyspark.sql import SparkSession
import pyspark.sql.functions as F

spark = SparkSession.builder.getOrCreate()

orders = spark.table("sales_curated.orders")

daily = (
    orders.filter(F.col("status") != "CANCELLED")
    .groupBy("customer_id", F.col("order_date"))
    .agg(
        F.sum("order_total").alias("revenue"),
        F.count("*").alias("order_count"),
        F.countDistinct("order_id").alias("distinct_orders"),
        F.max("updated_at").alias("last_update"),
    )
    .withColumn("avg_order_value", F.round(F.col("revenue") / F.col("order_count"), 2))
)

daily.write.format("parquet").mode("overwrite").saveAsTable("sales_marts.customer_daily_revenue")
