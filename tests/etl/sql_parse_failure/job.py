from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()

# The second statement has a typo; the analyser reports it instead of guessing.
spark.sql("SET spark.sql.sources.partitionOverwriteMode=dynamic")
bad = spark.sql("SELEC order_id FROM sales.orders")
spark.sql("INSERT INTO sales.orders_archive SELECT * FROM sales.orders WHERE order_date < '2020-01-01'")
