from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()

query = """
SELECT * FROM sales.orders
spark.sql(query).write.saveAsTable("sales.copy")
