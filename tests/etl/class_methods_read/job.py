from awsglue.context import GlueContext
from pyspark.context import SparkContext

glue = GlueContext(SparkContext.getOrCreate())
spark = glue.spark_session


class LoanSource:
    def __init__(self, session, database):
        self.session = session
        self.database = database

    def read(self, name):
        return self.session.table(f"{self.database}.{name}")

    def payments(self):
        return self.session.read.parquet("s3://lake/raw/payments/")


def customers():
    return spark.table("raw_db.customers")


source = LoanSource(spark, "raw_db")
loans = source.read("loans")
payments = source.payments()
joined = loans.join(payments, "loan_id").join(customers(), "customer_id")
joined.write.mode("overwrite").saveAsTable("analytics_db.loan_payments")


class Paths:
    ROOT = "s3://lake/raw"

    @staticmethod
    def of(name):
        return f"{Paths.ROOT}/{name}/"

    @classmethod
    def table(cls, session, name):
        return session.table(f"raw_db.{name}")

    def schedules(self, session):
        return session.read.parquet(self.of("schedules"))


schedules = Paths().schedules(spark)
branches = Paths.table(spark, "branches")
schedules.join(branches, "branch_id").write.mode("overwrite").saveAsTable("analytics_db.branch_schedules")
