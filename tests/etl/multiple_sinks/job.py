from awsglue.context import GlueContext
from pyspark.context import SparkContext
from pyspark.sql import functions as F

glueContext = GlueContext(SparkContext.getOrCreate())
spark = glueContext.spark_session

readings = spark.read.json("s3://acme-landing/meters/readings/")
typed = readings.withColumn("kwh", F.col("kwh").cast("double")).withColumn("read_at", F.to_timestamp("read_at"))

valid = typed.filter((F.col("kwh") >= 0) & F.col("meter_id").isNotNull())
invalid = typed.filter((F.col("kwh") < 0) | F.col("meter_id").isNull())

valid.write.mode("append").saveAsTable("energy_curated.meter_readings")
invalid.withColumn("rejected_reason", F.lit("negative or missing meter")).write.mode("append").saveAsTable(
    "energy_quarantine.meter_readings_rejected"
)

daily = valid.groupBy("meter_id", F.to_date("read_at").alias("read_date")).agg(F.sum("kwh").alias("kwh_total"))
daily.write.mode("overwrite").partitionBy("read_date").parquet("s3://acme-curated/energy/meter_daily/")
