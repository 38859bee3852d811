from awsglue.context import GlueContext
from pyspark.context import SparkContext

glueContext = GlueContext(SparkContext.getOrCreate())

# Only the last week of partitions is scanned.
events = glueContext.create_dynamic_frame.from_catalog(
    database="web_raw",
    table_name="clickstream",
    push_down_predicate="event_date >= '2024-06-01' and event_type = 'purchase'",
    additional_options={"catalogPartitionPredicate": "region in ('eu', 'us')"},
)

purchases = events.toDF().select("session_id", "user_id", "event_date", "sku", "price")
purchases.write.mode("overwrite").saveAsTable("web_curated.purchases")
