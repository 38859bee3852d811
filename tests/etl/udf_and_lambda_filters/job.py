import re
from awsglue.context import GlueContext
from awsglue.transforms import Filter
from pyspark.context import SparkContext
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType

glue = GlueContext(SparkContext.getOrCreate())
loans = glue.create_dynamic_frame.from_catalog(database="raw_db", table_name="loans")
active = Filter.apply(frame=loans, f=lambda r: r["status"] == "ACTIVE" and r["amount"] > 0)
valid = Filter.apply(frame=active, f=lambda r: re.match(r"^L[0-9]+$", r["loan_id"]) is not None)
df = valid.toDF()
is_ok = F.udf(lambda s: s is not None and s.startswith("C"), BooleanType())
df = df.filter(is_ok(F.col("customer_id")))
df.write.mode("overwrite").saveAsTable("analytics_db.valid_loans")
