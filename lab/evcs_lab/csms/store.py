"""SQLite persistence: records, station credentials, last CSR, connection state (last boot and connector status
included) and history, events, the messages stations sent on their own (SignCertificate, NotifyReport,
ReportChargingProfiles), and the network connection profiles the stations accepted (secrets already replaced by
salted hashes).

One connection used from the event loop thread only; every write commits at once, so a restart loses nothing.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from evcs_lab.csms.clock import now_rfc3339

COLLECTIONS = ('stations', 'locations', 'tariffs', 'id-tokens')
SERVER_MANAGED_KEYS = ('id', 'created_at', 'updated_at')

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    collection TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (collection, id));
CREATE TABLE IF NOT EXISTS credentials (station_id TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS credentials_station ON credentials (station_id);
CREATE TABLE IF NOT EXISTS csrs (
    station_id TEXT PRIMARY KEY, csr TEXT NOT NULL, certificate_type TEXT, received_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS station_state (station_id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS connection_log (
    station_id TEXT NOT NULL, security_profile INTEGER, endpoint TEXT, connected_at TEXT NOT NULL,
    client_certificate TEXT);
CREATE INDEX IF NOT EXISTS connection_log_station ON connection_log (station_id);
CREATE TABLE IF NOT EXISTS events (station_id TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_station ON events (station_id);
CREATE TABLE IF NOT EXISTS messages (
    station_id TEXT NOT NULL, action TEXT NOT NULL, received_at TEXT NOT NULL, request_id INTEGER, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS messages_station_action ON messages (station_id, action);
CREATE TABLE IF NOT EXISTS station_events (
    cursor INTEGER PRIMARY KEY AUTOINCREMENT, station_id TEXT NOT NULL, type TEXT NOT NULL, at TEXT NOT NULL,
    doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS network_profiles (
    station_id TEXT NOT NULL, slot INTEGER NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (station_id, slot));
"""


class RecordNotFound(LookupError):
    pass


class Store:
    def __init__(self, path: str | Path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path))
        self._db.execute('PRAGMA journal_mode=WAL')
        # a commit reaches the WAL file without an fsync each (a lab CSMS process that restarts still loses nothing;
        # only a machine crash could): every commit runs on the event loop, and at thousands of stations booting or
        # registered at once an fsync per commit (about 2.4 ms on these disks) held up every station (issue 22)
        self._db.execute('PRAGMA synchronous=NORMAL')
        self._db.executescript(_SCHEMA)
        self._db.commit()

    def close(self) -> None:
        self._db.close()

    def _write(self, sql: str, params: tuple = ()) -> int:
        with self._db:
            return self._db.execute(sql, params).rowcount

    # -- records -----------------------------------------------------------------------------------
    def get_record(self, collection: str, record_id: str) -> dict | None:
        row = self._db.execute('SELECT doc FROM records WHERE collection = ? AND id = ?',
                               (collection, record_id)).fetchone()
        return json.loads(row[0]) if row else None

    def list_records(self, collection: str, filters: dict[str, str]) -> list[dict]:
        rows = self._db.execute('SELECT doc FROM records WHERE collection = ? ORDER BY id', (collection,))
        records = (json.loads(doc) for (doc,) in rows)
        return [record for record in records if _matches(record, filters)]

    def put_record(self, collection: str, record_id: str, fields: dict) -> tuple[dict, bool]:
        """Replace the record's fields; returns (record, created)."""
        current = self.get_record(collection, record_id)
        return self._save(collection, record_id, fields, current), current is None

    def patch_record(self, collection: str, record_id: str, fields: dict) -> dict:
        current = self.get_record(collection, record_id)
        if current is None:
            raise RecordNotFound(record_id)
        merged = {key: value for key, value in current.items() if key not in SERVER_MANAGED_KEYS}
        merged.update(fields)
        return self._save(collection, record_id, merged, current)

    def delete_record(self, collection: str, record_id: str) -> bool:
        return self._write('DELETE FROM records WHERE collection = ? AND id = ?', (collection, record_id)) > 0

    def _save(self, collection: str, record_id: str, fields: dict, current: dict | None) -> dict:
        now = now_rfc3339()
        record = {key: value for key, value in fields.items() if key not in SERVER_MANAGED_KEYS}
        record.update(id=record_id, created_at=(current or {}).get('created_at', now), updated_at=now)
        self._write('INSERT OR REPLACE INTO records (collection, id, doc) VALUES (?, ?, ?)',
                    (collection, record_id, json.dumps(record, sort_keys=True)))
        return record

    # -- credentials -------------------------------------------------------------------------------
    def password_hashes(self, station_id: str) -> list[str]:
        rows = self._db.execute('SELECT hash FROM credentials WHERE station_id = ? ORDER BY rowid', (station_id,))
        return [stored for (stored,) in rows]

    def replace_password_hashes(self, station_id: str, hashes: list[str]) -> None:
        with self._db:
            self._db.execute('DELETE FROM credentials WHERE station_id = ?', (station_id,))
            self._db.executemany('INSERT INTO credentials (station_id, hash) VALUES (?, ?)',
                                 [(station_id, stored) for stored in hashes])

    def add_password_hash(self, station_id: str, stored: str) -> None:
        self._write('INSERT INTO credentials (station_id, hash) VALUES (?, ?)', (station_id, stored))

    # -- certificate signing requests ---------------------------------------------------------------
    def save_csr(self, station_id: str, csr: str, certificate_type: str | None) -> dict:
        entry = {'csr': csr, 'certificate_type': certificate_type, 'received_at': now_rfc3339()}
        self._write('INSERT OR REPLACE INTO csrs (station_id, csr, certificate_type, received_at) VALUES (?, ?, ?, ?)',
                    (station_id, csr, certificate_type, entry['received_at']))
        return entry

    def last_csr(self, station_id: str) -> dict | None:
        row = self._db.execute('SELECT csr, certificate_type, received_at FROM csrs WHERE station_id = ?',
                               (station_id,)).fetchone()
        return dict(zip(('csr', 'certificate_type', 'received_at'), row)) if row else None

    # -- connection state and history ----------------------------------------------------------------
    def save_station_state(self, station_id: str, state: dict) -> None:
        self._write('INSERT OR REPLACE INTO station_state (station_id, doc) VALUES (?, ?)',
                    (station_id, json.dumps(state)))

    def station_state(self, station_id: str) -> dict | None:
        row = self._db.execute('SELECT doc FROM station_state WHERE station_id = ?', (station_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def log_connection(self, station_id: str, security_profile: int, endpoint: str, connected_at: str,
                       client_certificate: str | None) -> None:
        self._write('INSERT INTO connection_log (station_id, security_profile, endpoint, connected_at, '
                    'client_certificate) VALUES (?, ?, ?, ?, ?)',
                    (station_id, security_profile, endpoint, connected_at, client_certificate))

    def last_security_profile(self, station_id: str) -> int | None:
        """The security profile of the station's latest accepted connection (None when it never connected)."""
        row = self._db.execute('SELECT security_profile FROM connection_log WHERE station_id = ? ORDER BY rowid DESC '
                               'LIMIT 1', (station_id,)).fetchone()
        return row[0] if row else None

    def connections_total(self, station_id: str) -> int:
        return self._db.execute('SELECT COUNT(*) FROM connection_log WHERE station_id = ?', (station_id,)).fetchone()[0]

    # -- station-initiated messages ------------------------------------------------------------------
    def save_message(self, station_id: str, action: str, payload: dict) -> dict:
        """Keep one message a station sent on its own (camelCase payload); returns it as :meth:`messages` lists it."""
        message = {'action': action, 'received_at': now_rfc3339(), 'payload': payload}
        request_id = payload.get('requestId')
        self._write('INSERT INTO messages (station_id, action, received_at, request_id, doc) VALUES (?, ?, ?, ?, ?)',
                    (station_id, action, message['received_at'], request_id if isinstance(request_id, int) else None,
                     json.dumps(payload)))
        return message

    def messages(self, station_id: str, action: str, since: str | None = None,
                 request_id: int | None = None) -> list[dict]:
        """The ``action`` messages of the station received after ``since`` (RFC 3339), oldest first."""
        sql, params = 'SELECT received_at, doc FROM messages WHERE station_id = ? AND action = ?', [station_id, action]
        if request_id is not None:
            sql += ' AND request_id = ?'
            params.append(request_id)
        rows = self._db.execute(sql + ' ORDER BY rowid', params)
        after = _moment(since) if since else None
        return [{'action': action, 'received_at': received_at, 'payload': json.loads(doc)}
                for received_at, doc in rows if after is None or _moment(received_at) > after]

    # -- events --------------------------------------------------------------------------------------
    def add_event(self, station_id: str, event: dict) -> None:
        self._write('INSERT INTO events (station_id, doc) VALUES (?, ?)', (station_id, json.dumps(event)))

    def events(self, station_id: str) -> list[dict]:
        rows = self._db.execute('SELECT doc FROM events WHERE station_id = ? ORDER BY rowid', (station_id,))
        return [json.loads(doc) for (doc,) in rows]


    # -- the event stream of all stations (GET /api/events) -------------------------------------------------
    def publish(self, station_id: str, event_type: str, data: dict) -> dict:
        """Append one event to the stream of all stations; returns it as :meth:`station_events` lists it."""
        at = now_rfc3339()
        with self._db:
            cursor = self._db.execute('INSERT INTO station_events (station_id, type, at, doc) VALUES (?, ?, ?, ?)',
                                      (station_id, event_type, at, json.dumps(data))).lastrowid
        return {'cursor': str(cursor), 'station_id': station_id, 'type': event_type, 'at': at, 'data': data}

    def station_events(self, after: int = 0, limit: int = 500) -> list[dict]:
        """The events published after the cursor ``after``, oldest first (at most ``limit``)."""
        rows = self._db.execute('SELECT cursor, station_id, type, at, doc FROM station_events WHERE cursor > ? '
                                'ORDER BY cursor LIMIT ?', (after, limit))
        return [{'cursor': str(cursor), 'station_id': station_id, 'type': event_type, 'at': at,
                 'data': json.loads(doc)} for cursor, station_id, event_type, at, doc in rows]

    def last_event_cursor(self) -> int:
        return self._db.execute('SELECT COALESCE(MAX(cursor), 0) FROM station_events').fetchone()[0]

    # -- network connection profiles (SetNetworkProfile answered Accepted) -----------------------------------
    def save_network_profile(self, station_id: str, slot: int, connection_data: dict) -> None:
        self._write('INSERT OR REPLACE INTO network_profiles (station_id, slot, doc) VALUES (?, ?, ?)',
                    (station_id, slot, json.dumps(connection_data, sort_keys=True)))

    def network_profiles(self, station_id: str) -> dict[str, dict]:
        rows = self._db.execute('SELECT slot, doc FROM network_profiles WHERE station_id = ? ORDER BY slot',
                                (station_id,))
        return {str(slot): json.loads(doc) for slot, doc in rows}

    def forget_network_profiles(self, station_id: str, below_security_profile: int | None = None) -> int:
        """Forget every slot of the station, or only those whose security profile is below the given one."""
        if below_security_profile is None:
            return self._write('DELETE FROM network_profiles WHERE station_id = ?', (station_id,))
        lower = [slot for slot, data in self.network_profiles(station_id).items()
                 if int(data.get('securityProfile', 0)) < below_security_profile]
        for slot in lower:
            self._write('DELETE FROM network_profiles WHERE station_id = ? AND slot = ?', (station_id, int(slot)))
        return len(lower)


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace('Z', '+00:00'))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _matches(record: dict, filters: dict[str, str]) -> bool:
    """Equality filters from a query string: compare as the JSON text a value would have in the query."""
    return all(_as_query_text(record.get(key)) == wanted for key, wanted in filters.items())


def _as_query_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value)
