/**
 * A real clickhouse-server for the fleet tests: startTestClickHouse() (its own temp dir, free
 * loopback ports) and clickHouseSkipReason() (the binary is absent). The code is in
 * bench/clickhouse-process.ts, which `npm run bench -- fleet` uses too. Temporary (issue 15,
 * helper B): the lead unifies it with test/support/db-servers.ts.
 */
export { CLICKHOUSE_BINARY, clickHouseSkipReason, startTestClickHouse, type TestClickHouse } from '../../bench/clickhouse-process.js';
