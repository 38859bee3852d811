from pyspark.sql import SparkSession, Window
from pyspark.sql import functions as F

spark = SparkSession.builder.appName("orders_latest").getOrCreate()

orders = spark.read.parquet("s3://acme-landing/shop/orders/")

# Keep the latest version of every order.
w = Window.partitionBy("order_id").orderBy(F.col("updated_at").desc(), F.col("ingest_ts").desc())
latest = (
    orders.withColumn("rn", F.row_number().over(w))
    .where(F.col("rn") == 1)
    .drop("rn")
    .withColumn("order_total", F.col("subtotal") + F.col("shipping") - F.col("discount"))
    .withColumn("dt", F.to_date("created_at", "yyyy-MM-dd"))
)

latest.select("order_id", "customer_id", "status", "order_total", "dt").write.mode("overwrite").partitionBy("dt").parquet(
    "s3://acme-curated/shop/orders_latest/"
)
