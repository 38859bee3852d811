from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()

# SELECT * over two catalog tables whose schemas the script never states.
wide = spark.sql("""
    SELECT a.*, b.*
    FROM hr_raw.employees a
    LEFT JOIN hr_raw.departments b ON a.dept_id = b.dept_id
    QUALIFY ROW_NUMBER() OVER (PARTITION BY a.employee_id ORDER BY a.updated_at DESC) = 1
""")
wide.write.mode("overwrite").saveAsTable("hr_curated.employees_wide")
