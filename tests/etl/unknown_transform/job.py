from awsglue.context import GlueContext
from awsglue.transforms import Relationalize, SelectFields
from pyspark.context import SparkContext
from pyspark.sql import functions as F
from pyspark.sql.types import StringType

from acme_etl.transforms import mask_pii

glueContext = GlueContext(SparkContext.getOrCreate())

profiles = glueContext.create_dynamic_frame.from_catalog(database="app_raw", table_name="user_profiles")
flat = Relationalize.apply(frame=profiles, staging_path="s3://acme-tmp/relationalize/", name="root")

users = glueContext.create_dynamic_frame.from_catalog(database="app_raw", table_name="users").toDF()
normalize = F.udf(lambda s: s.strip().lower() if s else None, StringType())
users = users.withColumn("username", normalize(F.col("username")))
users = mask_pii(users, ["email", "phone"])

users.write.mode("overwrite").saveAsTable("app_curated.users")
