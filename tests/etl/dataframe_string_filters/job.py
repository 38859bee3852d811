from pyspark.sql import SparkSession
from pyspark.sql import functions as F

spark = SparkSession.builder.getOrCreate()

refunds = (
    spark.read.option("header", "true").csv("s3://acme-landing/payments/refunds/")
    .filter("amount > 0 AND refund_status IN ('APPROVED', 'PAID')")
    .where(F.col("country").isNotNull())
    .selectExpr(
        "refund_id",
        "CAST(amount AS DECIMAL(12,2)) AS amount",
        "upper(country) AS country",
        "to_date(requested_at) AS requested_date",
    )
)

refunds.write.mode("overwrite").saveAsTable("payments_curated.refunds")
