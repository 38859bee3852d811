from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()

orders = spark.table("sales.orders"
orders.write.saveAsTable("sales.orders_copy")
