from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()

accounts = (
    spark.read.format("jdbc")
    .option("url", "jdbc:postgresql://crm-db:5432/crm")
    .option("dbtable", "public.accounts")
    .option("user", "etl")
    .load()
)
contacts = spark.read.jdbc("jdbc:postgresql://crm-db:5432/crm", "public.contacts")

primary = contacts.filter("is_primary = true").select("account_id", "contact_email")
accounts.join(primary, "account_id", "left").write.mode("append").format("parquet").save("s3://acme-landing/crm/accounts_snapshot/")
