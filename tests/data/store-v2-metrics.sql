-- mqmon database, schema version 2 (mqmon 0.1.0 before schema 3), made by
-- mqmon-store from these envelopes with --rule 'plant/+/telemetry=telemetry':
--   {"ts":"2025-01-28T10:00:00.000Z","topic":"autocore/ESP32_001/telemetry","payload":{"device_id":"ESP32_001","temperature":21.5,"humidity":40}}
--   {"ts":"2025-01-28T10:00:00.000Z","topic":"autocore/ESP32_002/telemetry","payload":{"device_id":"ESP32_002","temperature":19.25,"sensors":{"co2":410}}}
--   {"ts":"2025-01-28T10:00:30.500Z","topic":"autocore/ESP32_001/telemetry","payload":{"device_id":"ESP32_001","temperature":22,"humidity":41.5}}
--   {"ts":"2025-01-28T10:00:30.500Z","topic":"autocore/ESP32_001/telemetry","payload":{"device_id":"ESP32_001","temperature":22.75,"humidity":41}}
--   {"ts":"2025-01-28T10:01:00.000Z","topic":"autocore/ESP32_002/telemetry","payload":{"device_id":"ESP32_002","temperature":-3.5,"sensors":{"co2":415}}}
--   {"ts":"2025-01-28T09:59:00.250Z","topic":"autocore/ESP32_001/telemetry","payload":{"device_id":"ESP32_001","temperature":20,"humidity":39}}
--   {"ts":"1969-12-31T23:59:59.999Z","topic":"autocore/ESP32_003/telemetry","payload":{"device_id":"ESP32_003","temperature":1e-3}}
--   {"ts":"2025-01-28T10:02:00.000Z","topic":"plant/line1/telemetry","payload":{"speed":3.25}}
--   {"ts":"2025-01-28T10:02:00.000Z","topic":"plant/line1/telemetry","payload":{"speed":3.5}}
--   {"ts":"2025-01-28T10:02:00.000Z","topic":"autocore/ESP32_001/status","payload":{"device_id":"ESP32_001","status":"online"}}
-- metrics with ties at one millisecond, input out of time order, a time
-- before 1970 and a NULL device: the v2 -> v3 upgrade test
-- (tests/store-durability.sh). Made with: sqlite3 fx.db .dump
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE messages ( id INTEGER PRIMARY KEY, ts TEXT NOT NULL, topic TEXT NOT NULL, device TEXT, qos INTEGER NOT NULL DEFAULT 0, retain INTEGER NOT NULL DEFAULT 0, enc TEXT NOT NULL DEFAULT 'json', payload BLOB, props TEXT);
INSERT INTO messages VALUES(1,'2025-01-28T10:00:00.000Z','autocore/ESP32_001/telemetry','ESP32_001',0,0,'json','{"device_id":"ESP32_001","temperature":21.5,"humidity":40}',NULL);
INSERT INTO messages VALUES(2,'2025-01-28T10:00:00.000Z','autocore/ESP32_002/telemetry','ESP32_002',0,0,'json','{"device_id":"ESP32_002","temperature":19.25,"sensors":{"co2":410}}',NULL);
INSERT INTO messages VALUES(3,'2025-01-28T10:00:30.500Z','autocore/ESP32_001/telemetry','ESP32_001',0,0,'json','{"device_id":"ESP32_001","temperature":22,"humidity":41.5}',NULL);
INSERT INTO messages VALUES(4,'2025-01-28T10:00:30.500Z','autocore/ESP32_001/telemetry','ESP32_001',0,0,'json','{"device_id":"ESP32_001","temperature":22.75,"humidity":41}',NULL);
INSERT INTO messages VALUES(5,'2025-01-28T10:01:00.000Z','autocore/ESP32_002/telemetry','ESP32_002',0,0,'json','{"device_id":"ESP32_002","temperature":-3.5,"sensors":{"co2":415}}',NULL);
INSERT INTO messages VALUES(6,'2025-01-28T09:59:00.250Z','autocore/ESP32_001/telemetry','ESP32_001',0,0,'json','{"device_id":"ESP32_001","temperature":20,"humidity":39}',NULL);
INSERT INTO messages VALUES(7,'1969-12-31T23:59:59.999Z','autocore/ESP32_003/telemetry','ESP32_003',0,0,'json','{"device_id":"ESP32_003","temperature":1e-3}',NULL);
INSERT INTO messages VALUES(8,'2025-01-28T10:02:00.000Z','plant/line1/telemetry',NULL,0,0,'json','{"speed":3.25}',NULL);
INSERT INTO messages VALUES(9,'2025-01-28T10:02:00.000Z','plant/line1/telemetry',NULL,0,0,'json','{"speed":3.5}',NULL);
INSERT INTO messages VALUES(10,'2025-01-28T10:02:00.000Z','autocore/ESP32_001/status','ESP32_001',0,0,'json','{"device_id":"ESP32_001","status":"online"}',NULL);
CREATE TABLE topics ( topic TEXT PRIMARY KEY, kind TEXT, device TEXT, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, count INTEGER NOT NULL DEFAULT 0, last_enc TEXT, last_payload BLOB) WITHOUT ROWID;
INSERT INTO topics VALUES('autocore/ESP32_001/status','status','ESP32_001','2025-01-28T10:02:00.000Z','2025-01-28T10:02:00.000Z',1,'json','{"device_id":"ESP32_001","status":"online"}');
INSERT INTO topics VALUES('autocore/ESP32_001/telemetry','telemetry','ESP32_001','2025-01-28T09:59:00.250Z','2025-01-28T10:00:30.500Z',4,'json','{"device_id":"ESP32_001","temperature":22.75,"humidity":41}');
INSERT INTO topics VALUES('autocore/ESP32_002/telemetry','telemetry','ESP32_002','2025-01-28T10:00:00.000Z','2025-01-28T10:01:00.000Z',2,'json','{"device_id":"ESP32_002","temperature":-3.5,"sensors":{"co2":415}}');
INSERT INTO topics VALUES('autocore/ESP32_003/telemetry','telemetry','ESP32_003','1969-12-31T23:59:59.999Z','1969-12-31T23:59:59.999Z',1,'json','{"device_id":"ESP32_003","temperature":1e-3}');
INSERT INTO topics VALUES('plant/line1/telemetry','telemetry',NULL,'2025-01-28T10:02:00.000Z','2025-01-28T10:02:00.000Z',2,'json','{"speed":3.5}');
CREATE TABLE devices ( device TEXT PRIMARY KEY, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, messages INTEGER NOT NULL DEFAULT 0, online INTEGER, status TEXT, ip_address TEXT, firmware_version TEXT, fields TEXT, status_topic TEXT, status_ts TEXT) WITHOUT ROWID;
INSERT INTO devices VALUES('ESP32_001','2025-01-28T09:59:00.250Z','2025-01-28T10:02:00.000Z',5,1,'online',NULL,NULL,'{"device_id":"ESP32_001"}','autocore/ESP32_001/status','2025-01-28T10:02:00.000Z');
INSERT INTO devices VALUES('ESP32_002','2025-01-28T10:00:00.000Z','2025-01-28T10:01:00.000Z',2,NULL,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO devices VALUES('ESP32_003','1969-12-31T23:59:59.999Z','1969-12-31T23:59:59.999Z',1,NULL,NULL,NULL,NULL,NULL,NULL,NULL);
CREATE TABLE states ( device TEXT NOT NULL, key TEXT NOT NULL, value TEXT, ts TEXT NOT NULL, PRIMARY KEY (device, key)) WITHOUT ROWID;
CREATE TABLE state_changes ( ts TEXT NOT NULL, device TEXT NOT NULL, key TEXT NOT NULL, old_value TEXT, new_value TEXT);
CREATE TABLE rejects ( id INTEGER PRIMARY KEY, ts TEXT NOT NULL, source TEXT, line INTEGER, error TEXT NOT NULL, input BLOB);
CREATE TABLE series ( id INTEGER PRIMARY KEY, device TEXT, metric TEXT NOT NULL, UNIQUE (device, metric));
INSERT INTO series VALUES(1,'ESP32_001','temperature');
INSERT INTO series VALUES(2,'ESP32_001','humidity');
INSERT INTO series VALUES(3,'ESP32_002','temperature');
INSERT INTO series VALUES(4,'ESP32_002','sensors.co2');
INSERT INTO series VALUES(5,'ESP32_003','temperature');
INSERT INTO series VALUES(6,NULL,'speed');
CREATE TABLE points ( ts_ms INTEGER NOT NULL, series INTEGER NOT NULL, seq INTEGER NOT NULL DEFAULT 0, value REAL NOT NULL, PRIMARY KEY (ts_ms, series, seq)) WITHOUT ROWID;
INSERT INTO points VALUES(-1,5,0,0.0010000000000000000208);
INSERT INTO points VALUES(1738058340250,1,0,20.0);
INSERT INTO points VALUES(1738058340250,2,0,39.0);
INSERT INTO points VALUES(1738058400000,1,0,21.5);
INSERT INTO points VALUES(1738058400000,2,0,40.0);
INSERT INTO points VALUES(1738058400000,3,0,19.25);
INSERT INTO points VALUES(1738058400000,4,0,410.0);
INSERT INTO points VALUES(1738058430500,1,0,22.0);
INSERT INTO points VALUES(1738058430500,1,1,22.75);
INSERT INTO points VALUES(1738058430500,2,0,41.5);
INSERT INTO points VALUES(1738058430500,2,1,41.0);
INSERT INTO points VALUES(1738058460000,3,0,-3.5);
INSERT INTO points VALUES(1738058460000,4,0,415.0);
INSERT INTO points VALUES(1738058520000,6,0,3.25);
INSERT INTO points VALUES(1738058520000,6,1,3.5);
CREATE INDEX messages_topic_ts ON messages(topic, ts);
CREATE INDEX state_changes_device_key_ts ON state_changes(device, key, ts);
CREATE VIEW metrics(ts, device, metric, value) AS SELECT strftime('%Y-%m-%dT%H:%M:%fZ', p.ts_ms / 1000.0, 'unixepoch'), s.device, s.metric, p.value FROM points AS p JOIN series AS s ON s.id = p.series;
COMMIT;
PRAGMA user_version = 2;
