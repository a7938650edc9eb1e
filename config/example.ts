/**
 * `dcu config example`: a commented configuration that passes `dcu config check` as it is on
 * a fresh box (a test keeps it so: no file it names needs to exist), with a secured meter as a
 * commented template whose named key file the technician puts in keysDir first. Keys not
 * shown take the defaults listed in docs/config.md.
 */
export const EXAMPLE_CONFIG = `# dcu concentrator configuration (YAML; JSON works too).
# Check it with: dcu config check FILE. Any key can be overridden from the environment
# with DCU_<PATH>, e.g. DCU_MQTT_URL, DCU_STORAGE_MAX_BYTES, DCU_LINES_0_SERIAL_PATH.

id: dcu-0001                 # concentrator id: MQTT topics are dcu/<id>/…
stateDir: /var/lib/dcu       # SQLite store, counters, metadata cache
keysDir: /etc/dcu/keys       # key files by name: keys: { name: M } is /etc/dcu/keys/M.json

lines:
  # a PLC/RF modem or RS-485 adapter: HDLC, meters picked by their physical address
  - { name: plc0, serial: { path: /dev/ttyUSB0, baud: 9600 } }
  # meters reached over IP: IEC 62056-47 wrapper (framing: hdlc for terminal servers)
  - { name: ip, tcp: { concurrency: 8 } }

meters:                      # seed list, applied at start; the registry lives in SQLite
  - { serial: SIM000000, line: plc0, address: "1/16", client: 17, auth: low, password: "00000000" }
  - { serial: SIM000001, line: plc0, address: "1/17", client: 17, auth: low, password: "00000000" }
  # A secured meter (HLS-GMAC, APDUs authenticated and encrypted, suite 0). Its keys are in
  # /etc/dcu/keys/SIM000004.json, {"blockKey": HEX, "authKey": HEX}, mode 0600, readable by the
  # dcud user only; uncomment once that file is there (config check reads it):
  # - serial: SIM000004
  #   line: ip
  #   address: "10.20.0.15:4059"
  #   client: 1
  #   auth: high-gmac
  #   systemTitle: "4443553030303031"
  #   keys: { name: SIM000004 }

collection:                  # per data class: every (interval), backfill (new meters), enabled
  load-profile: { every: 15m, backfill: 7d }
  daily: { every: 1d, backfill: 31d }
  billing: { every: 1d, backfill: 93d }
  events: { every: 1h }        # the meters' event logs, from their watermarks
  alarms: { every: 15m }       # the alarm register: bits raise and clear alarms
  registers: { every: 1d }     # energy totals ±A/±R
  clock: { every: 1d }         # clock check with the policy below

clock: { syncAbove: 5m, eventAbove: 10m }   # drift policy: sync above 5 min, above 10 min only an event
registry: { unreachableAfter: 72h }
push: { tcp: "0.0.0.0:4059", udp: "0.0.0.0:4059" }   # meters speak first: pushes become alarms at once
storage: { maxBytes: 2GB }
mqtt: { url: "mqtts://hes.example:8883" }
api: { listen: "0.0.0.0:8443" }
`;
