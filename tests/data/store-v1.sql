-- mqmon database, schema version 1 (mqmon 0.1.0), as released: a fixture for
-- the upgrade test (tests/store-durability.sh). Made with: sqlite3 fx.db .dump
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE messages ( id INTEGER PRIMARY KEY, ts TEXT NOT NULL, topic TEXT NOT NULL, device TEXT, qos INTEGER NOT NULL DEFAULT 0, retain INTEGER NOT NULL DEFAULT 0, enc TEXT NOT NULL DEFAULT 'json', payload BLOB, props TEXT);
INSERT INTO messages VALUES(1,'2025-01-28T10:30:00.000Z','autocore/ESP32_001/status','ESP32_001',0,0,'json','{"device_id":"ESP32_001","status":"online","ip_address":"192.168.1.100"}',NULL);
INSERT INTO messages VALUES(2,'2025-01-28T10:30:15.000Z','autocore/ESP32_001/telemetry','ESP32_001',0,0,'json','{"temperature":25.6}',NULL);
INSERT INTO messages VALUES(3,'2025-01-28T10:30:30.000Z','autocore/ESP32_001/relay/0/status','ESP32_001',0,0,'json','{"state":true}',NULL);
CREATE TABLE topics ( topic TEXT PRIMARY KEY, kind TEXT, device TEXT, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, count INTEGER NOT NULL DEFAULT 0, last_enc TEXT, last_payload BLOB) WITHOUT ROWID;
INSERT INTO topics VALUES('autocore/ESP32_001/relay/0/status','state','ESP32_001','2025-01-28T10:30:30.000Z','2025-01-28T10:30:30.000Z',1,'json','{"state":true}');
INSERT INTO topics VALUES('autocore/ESP32_001/status','status','ESP32_001','2025-01-28T10:30:00.000Z','2025-01-28T10:30:00.000Z',1,'json','{"device_id":"ESP32_001","status":"online","ip_address":"192.168.1.100"}');
INSERT INTO topics VALUES('autocore/ESP32_001/telemetry','telemetry','ESP32_001','2025-01-28T10:30:15.000Z','2025-01-28T10:30:15.000Z',1,'json','{"temperature":25.6}');
CREATE TABLE devices ( device TEXT PRIMARY KEY, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, messages INTEGER NOT NULL DEFAULT 0, online INTEGER, status TEXT, ip_address TEXT, firmware_version TEXT, fields TEXT, status_topic TEXT, status_ts TEXT) WITHOUT ROWID;
INSERT INTO devices VALUES('ESP32_001','2025-01-28T10:30:00.000Z','2025-01-28T10:30:30.000Z',3,1,'online','192.168.1.100',NULL,'{"device_id":"ESP32_001"}','autocore/ESP32_001/status','2025-01-28T10:30:00.000Z');
CREATE TABLE metrics ( ts TEXT NOT NULL, device TEXT, metric TEXT NOT NULL, value REAL NOT NULL);
INSERT INTO metrics VALUES('2025-01-28T10:30:15.000Z','ESP32_001','temperature',25.600000000000001421);
CREATE TABLE states ( device TEXT NOT NULL, key TEXT NOT NULL, value TEXT, ts TEXT NOT NULL, PRIMARY KEY (device, key)) WITHOUT ROWID;
INSERT INTO states VALUES('ESP32_001','0','true','2025-01-28T10:30:30.000Z');
CREATE TABLE state_changes ( ts TEXT NOT NULL, device TEXT NOT NULL, key TEXT NOT NULL, old_value TEXT, new_value TEXT);
INSERT INTO state_changes VALUES('2025-01-28T10:30:30.000Z','ESP32_001','0',NULL,'true');
CREATE TABLE rejects ( id INTEGER PRIMARY KEY, ts TEXT NOT NULL, source TEXT, line INTEGER, error TEXT NOT NULL, input BLOB);
CREATE INDEX messages_topic_ts ON messages(topic, ts);
CREATE INDEX metrics_ts ON metrics(ts);
CREATE INDEX state_changes_device_key_ts ON state_changes(device, key, ts);
COMMIT;
PRAGMA user_version = 1;
