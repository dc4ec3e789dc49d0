// The replaced system's Express API, the baseline of
// `bench/store-http.sh --express`: POST /metrics takes one record with
// the Spanish wire keys and INSERTs it into the replaced system's table
// (tests/fixtures/replaced-table.sql) through a mysql2 pool, one
// autocommit INSERT a request, as such an API does; the answer follows
// the INSERT.
//
//   node server.js PORT_FILE   (environment: DB_SOCKET, DB_USER,
//                               DB_PASSWORD, DB_NAME)
'use strict';
const fs = require('fs');
const express = require('express');
const mysql = require('mysql2/promise');

const pool = mysql.createPool({
  socketPath: process.env.DB_SOCKET,
  user: process.env.DB_USER,
  password: process.env.DB_PASSWORD,
  database: process.env.DB_NAME,
  connectionLimit: 10,
});
const app = express();
app.use(express.json());

app.post('/metrics', async (req, res) => {
  const b = req.body;
  try {
    await pool.execute(
      'INSERT INTO system_metrics (ram_total, ram_free, ram_used, ' +
      'ram_percentage, cpu_usage, cpu_free, running_processes, ' +
      'total_processes, sleeping_processes, zombie_processes, ' +
      'stopped_processes, data_source) ' +
      'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [b.total_ram, b.ram_libre, b.uso_ram, b.porcentaje_ram,
        b.porcentaje_cpu_uso, b.porcentaje_cpu_libre, b.procesos_corriendo,
        b.total_procesos, b.procesos_durmiendo, b.procesos_zombie,
        b.procesos_parados, 'nodejs_api1']);
    res.status(201).json({ message: 'stored' });
  } catch (e) {
    res.status(500).json({ error: e.message });
  }
});

const server = app.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(process.argv[2], String(server.address().port));
});
