/** The in-memory cable of unit tests (it lives in protocol/transport: the virtual lines of sim/ and bench/ use it too). */
export { memoryTransportPair, type MemoryTransport } from '../../protocol/transport/memory';
