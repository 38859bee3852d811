from pyspark.sql import SparkSession
from pyspark.sql import functions as F

spark = SparkSession.builder.getOrCreate()

stock = spark.read.format("parquet").load("s3://acme-landing/warehouse/stock_levels/")
products = spark.table("catalog_ref.products").select("product_id", "category", "unit_cost")
products = products.dropDuplicates(["product_id"])

valued = stock.join(other=F.broadcast(products), on=["product_id"], how="left_outer")
valued = valued.withColumn("stock_value", F.col("quantity_on_hand") * F.col("unit_cost"))

valued.write.mode("append").partitionBy("snapshot_date").format("parquet").save("s3://acme-curated/warehouse/stock_valuation/")
