import os
from datetime import date

from awsglue.context import GlueContext
from pyspark.context import SparkContext

glueContext = GlueContext(SparkContext.getOrCreate())
spark = glueContext.spark_session


def source_table():
    return os.environ.get("SOURCE_TABLE", "events")


events = glueContext.create_dynamic_frame.from_catalog(database="tracking_raw", table_name=source_table()).toDF()
suffix = date.today().strftime("%Y%m%d")
events.write.mode("overwrite").saveAsTable(f"tracking_curated.events_{suffix}")
spark.read.parquet(os.environ["EXTRA_PATH"]).count()
