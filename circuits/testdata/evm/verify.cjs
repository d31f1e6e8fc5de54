// Compiles a Solidity verifier with solc and runs calls of it in an
// in-memory EVM (@ethereumjs/vm), so that the exported contract is tested
// as a chain would run it.
//
//   node verify.cjs TOOLS Verifier.sol cases.json
//
// TOOLS is the npm prefix holding node_modules with solc, @ethereumjs/vm,
// @ethereumjs/tx, @ethereumjs/common and @ethereumjs/util. cases.json is
// [{"name", "calldata": "0x…"}]. Prints one JSON object: the compiler
// version, the hardfork, the deployment's gas, and per case whether the
// call succeeded (did not revert) and the gas of the whole transaction.
'use strict';
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

async function main() {
  const [tools, solPath, casesPath] = process.argv.slice(2);
  if (!tools || !solPath || !casesPath) throw new Error('usage: node verify.cjs TOOLS Verifier.sol cases.json');
  const req = createRequire(path.join(path.resolve(tools), 'package.json'));
  const solc = req('solc');
  const { createVM, runTx } = req('@ethereumjs/vm');
  const { createLegacyTx } = req('@ethereumjs/tx');
  const { Common, Mainnet, Hardfork } = req('@ethereumjs/common');
  const { hexToBytes, bytesToHex } = req('@ethereumjs/util');

  const input = {
    language: 'Solidity',
    sources: { 'Verifier.sol': { content: fs.readFileSync(solPath, 'utf8') } },
    settings: { optimizer: { enabled: true, runs: 200 }, outputSelection: { '*': { '*': ['evm.bytecode.object'] } } },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (out.errors || []).filter((e) => e.severity === 'error');
  if (errors.length > 0) throw new Error('solc: ' + errors.map((e) => e.formattedMessage).join('\n'));
  const contracts = out.contracts['Verifier.sol'];
  const name = Object.keys(contracts)[0];
  const bytecode = contracts[name].evm.bytecode.object;

  const common = new Common({ chain: Mainnet, hardfork: Hardfork.Prague });
  const vm = await createVM({ common });
  const key = hexToBytes('0x' + '11'.repeat(32));
  let nonce = 0n;
  const send = async (to, data) => {
    const tx = createLegacyTx({ nonce: nonce++, gasPrice: 10n, gasLimit: 30000000n, to, data }, { common }).sign(key);
    return runTx(vm, { tx, skipBalance: true, skipBlockGasLimitValidation: true });
  };
  const dep = await send(undefined, hexToBytes('0x' + bytecode));
  if (dep.execResult.exceptionError || !dep.createdAddress) {
    throw new Error('deployment failed: ' + (dep.execResult.exceptionError || {}).error);
  }
  const result = { solc: solc.version(), hardfork: common.hardfork(), contract: name, deployGas: Number(dep.totalGasSpent), cases: [] };
  for (const c of JSON.parse(fs.readFileSync(casesPath, 'utf8'))) {
    const r = await send(dep.createdAddress, hexToBytes(c.calldata));
    const err = r.execResult.exceptionError;
    result.cases.push({
      name: c.name, ok: !err, gas: Number(r.totalGasSpent),
      error: err ? err.error : undefined, returned: err ? bytesToHex(r.execResult.returnValue) : undefined,
    });
  }
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
