from awsglue.context import GlueContext
from pyspark.context import SparkContext

glue = GlueContext(SparkContext.getOrCreate())

devices = (
    glue.create_dynamic_frame.from_catalog(database="iot_raw", table_name="device_readings")
    .apply_mapping(
        [
            ("deviceId", "string", "device_id", "string"),
            ("ts", "long", "reading_ts", "timestamp"),
            ("temp", "string", "temperature_c", "double"),
            ("site", "string", "site", "string"),
        ]
    )
    .rename_field("site", "site_code")
    .resolveChoice(specs=[("temperature_c", "cast:double")])
    .select_fields(["device_id", "reading_ts", "temperature_c", "site_code"])
)

devices.toDF().write.mode("append").partitionBy("site_code").parquet("s3://acme-iot/curated/device_readings/")
