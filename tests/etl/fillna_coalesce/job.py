from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DecimalType, IntegerType

spark = SparkSession.builder.getOrCreate()

items = spark.table("sales_curated.order_items")
items = items.fillna({"discount_pct": 0, "gift_wrap": "N"})
items = items.na.fill(0, subset=["quantity"])
items = items.dropna(subset=["order_id", "sku"])
items = items.withColumn("unit_price", F.coalesce(F.col("unit_price"), F.col("list_price"), F.lit(0)).cast(DecimalType(10, 2)))
items = items.withColumn("quantity", F.col("quantity").cast(IntegerType()))
items = items.withColumn("line_total", F.expr("quantity * unit_price * (1 - discount_pct / 100)"))

items.select("order_id", "sku", "quantity", "unit_price", "discount_pct", "gift_wrap", "line_total").write.mode(
    "overwrite"
).saveAsTable("sales_marts.order_item_totals")
