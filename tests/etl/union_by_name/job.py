from functools import reduce

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

spark = SparkSession.builder.getOrCreate()

eu = spark.table("support_raw.tickets_eu").select("ticket_id", "opened_at", "priority", F.lit("eu").alias("region"))
us = spark.table("support_raw.tickets_us").select("ticket_id", "priority", "opened_at", F.lit("us").alias("region"))

tickets = eu.unionByName(us).dropDuplicates(["ticket_id", "region"])
tickets.write.mode("overwrite").saveAsTable("support_curated.tickets")
