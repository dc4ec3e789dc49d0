-- The replaced system's table, as DESIGN.md lists it ("The table"), for
-- bench/express-api/server.js.
CREATE TABLE IF NOT EXISTS system_metrics (
  id INT AUTO_INCREMENT PRIMARY KEY,
  ram_total BIGINT,
  ram_free BIGINT,
  ram_used BIGINT,
  ram_percentage FLOAT,
  cpu_usage FLOAT,
  cpu_free FLOAT,
  running_processes INT,
  total_processes INT,
  sleeping_processes INT,
  zombie_processes INT,
  stopped_processes INT,
  data_source VARCHAR(50),
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
