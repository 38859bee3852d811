from awsglue.context import GlueContext
from pyspark.context import SparkContext

glueContext = GlueContext(SparkContext.getOrCreate())
spark = glueContext.spark_session

sessions = glueContext.create_dynamic_frame.from_catalog(database="web_raw", table_name="sessions").toDF()
sessions = sessions.select("session_id", "user_id", "started_at", "device")
sessions.createOrReplaceTempView("sessions")

users = spark.read.table("crm_curated.users")
users.createOrReplaceTempView("users")

engagement = spark.sql("""
    SELECT u.user_id,
           u.signup_channel,
           s.device,
           count(s.session_id) AS sessions,
           min(s.started_at) AS first_session_at
    FROM sessions s
    JOIN users u USING (user_id)
    GROUP BY u.user_id, u.signup_channel, s.device
""")

engagement.write.mode("overwrite").parquet("s3://acme-curated/web/user_engagement/")
