import boto3
from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
s3 = boto3.client("s3")
query = s3.get_object(Bucket="etl-config", Key="sql/loans.sql")["Body"].read().decode("utf-8")
keys = [o["Key"] for o in s3.list_objects_v2(Bucket="lake", Prefix="raw/loans/")["Contents"]]
glue_client = boto3.client("glue")
parts = glue_client.get_partitions(DatabaseName="raw_db", TableName="loans")
df = spark.read.parquet(*["s3://lake/" + k for k in keys])
df.createOrReplaceTempView("loans")
spark.sql(query).write.mode("overwrite").saveAsTable("analytics_db.loans_from_sql")
