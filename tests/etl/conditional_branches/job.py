import sys

from awsglue.context import GlueContext
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "load_type"])
glueContext = GlueContext(SparkContext.getOrCreate())
spark = glueContext.spark_session

if args["load_type"] == "full":
    products = spark.table("catalog_raw.products_full")
    mode = "overwrite"
else:
    products = spark.table("catalog_raw.products_delta")
    mode = "append"

products.select("product_id", "name", "price").write.mode(mode).saveAsTable("catalog_curated.products")
