from awsglue.context import GlueContext
from pyspark.context import SparkContext

glueContext = GlueContext(SparkContext.getOrCreate())

carts = glueContext.create_dynamic_frame.from_options(
    connection_type="dynamodb",
    connection_options={"dynamodb.input.tableName": "shopping-carts", "dynamodb.throughput.read.percent": "0.5"},
)
carts.toDF().select("cart_id", "user_id", "items", "updated_at").write.mode("overwrite").parquet("s3://acme-landing/shop/carts/")
