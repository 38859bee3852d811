"""Reads sales_raw.orders_v1 and writes sales_curated.orders_clean.

(This docstring is out of date: the code below is what runs.)
"""
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

spark = SparkSession.builder.getOrCreate()

# Read the v1 orders table.
orders = spark.table("sales_raw.orders_v2")

# Keep only orders from the EU.
orders = orders.filter(F.col("region") == "US")

# Deduplicate on order_id.
orders = orders.dropDuplicates(["order_id", "order_version"])

# Write to orders_clean.
orders.write.mode("overwrite").saveAsTable("sales_curated.orders_us")
