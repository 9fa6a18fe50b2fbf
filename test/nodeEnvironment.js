// Jest runs tests in a VM context whose typed-array constructors differ from Node's own. Native
// addons (onnxruntime-node) return arrays made by Node's constructors, which then fail the
// `instanceof Float32Array` checks of the JavaScript that wraps them: a failure that exists only
// under Jest. Sharing Node's constructors with the context removes it.
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

class SharedTypedArraysEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = SharedTypedArraysEnvironment;
