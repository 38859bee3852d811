from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from pyspark.context import SparkContext
from pyspark.sql import functions as F

glueContext = GlueContext(SparkContext.getOrCreate())

vehicles = glueContext.create_data_frame.from_catalog(database="fleet_raw", table_name="vehicles")
vehicles = (
    vehicles.withColumnRenamed("vin", "vehicle_id")
    .withColumnRenamed("mdl", "model")
    .withColumn("model", F.initcap("model"))
    .withColumn("is_electric", F.col("fuel_type").isin("BEV", "PHEV"))
    .drop("fuel_type", "raw_payload")
)

glueContext.write_dynamic_frame.from_options(
    frame=DynamicFrame.fromDF(vehicles, glueContext, "vehicles"),
    connection_type="s3",
    connection_options={"path": "s3://acme-fleet/curated/vehicles/"},
    format="parquet",
)
