// A user's scenario with the official Tencent Cloud Node.js SDK, pointed at
// Palisade as the README says: endpoint 127.0.0.1:PORT, protocol http://.
//
//   node scenario.mjs ENDPOINT SECRET_ID SECRET_KEY
//
// It exits non-zero, naming the step, on the first unexpected answer.
import tencentcloud from "tencentcloud-sdk-nodejs";

const [endpoint, secretId, secretKey] = process.argv.slice(2);
if (!endpoint || !secretId || !secretKey) {
  console.error("usage: node scenario.mjs ENDPOINT SECRET_ID SECRET_KEY");
  process.exit(2);
}

const clientConfig = (region) => ({
  credential: { secretId, secretKey },
  region,
  profile: { httpProfile: { endpoint, protocol: "http://" } },
});
const VpcClient = tencentcloud.vpc.v20170312.Client;
const gz = new VpcClient(clientConfig("ap-guangzhou"));
const sh = new VpcClient(clientConfig("ap-shanghai"));

function check(step, ok, detail) {
  if (!ok) {
    throw new Error(`${step}: ${detail}`);
  }
  console.log(`ok ${step}`);
}

async function wantError(step, promise, code) {
  try {
    await promise;
  } catch (err) {
    check(step, err.code === code, `code ${err.code} (${err.message}), want ${code}`);
    return err;
  }
  throw new Error(`${step}: succeeded, want ${code}`);
}

async function main() {
  // Create a group.
  const created = await gz.CreateSecurityGroup({
    GroupName: "node-web",
    GroupDescription: "created with the Node.js SDK",
    ProjectId: "0",
  });
  const groupId = created.SecurityGroup.SecurityGroupId;
  check("CreateSecurityGroup", /^sg-[0-9a-z]{8}$/.test(groupId), `SecurityGroupId ${groupId}`);

  // Add policies: two inbound, one outbound.
  await gz.CreateSecurityGroupPolicies({
    SecurityGroupId: groupId,
    SecurityGroupPolicySet: {
      Ingress: [
        { Protocol: "TCP", Port: "22", CidrBlock: "10.0.0.0/8", Action: "ACCEPT", PolicyDescription: "ssh" },
        { Protocol: "tcp", Port: "80,443", CidrBlock: "0.0.0.0/0", Action: "accept", PolicyDescription: "web" },
      ],
    },
  });
  await gz.CreateSecurityGroupPolicies({
    SecurityGroupId: groupId,
    SecurityGroupPolicySet: {
      Egress: [{ Protocol: "ALL", Port: "ALL", CidrBlock: "0.0.0.0/0", Action: "ACCEPT" }],
    },
  });

  // Describe them.
  const described = await gz.DescribeSecurityGroupPolicies({ SecurityGroupId: groupId });
  const set = described.SecurityGroupPolicySet;
  const ingress = set.Ingress.map((p) => `${p.PolicyIndex} ${p.Action} ${p.Protocol} ${p.Port} ${p.CidrBlock}`);
  check(
    "DescribeSecurityGroupPolicies",
    JSON.stringify(ingress) === JSON.stringify(["0 ACCEPT TCP 22 10.0.0.0/8", "1 ACCEPT TCP 80,443 0.0.0.0/0"]) &&
      set.Egress.length === 1 && set.Version === "2",
    `ingress ${JSON.stringify(ingress)}, ${set.Egress.length} egress, Version ${set.Version}`,
  );

  // A version conflict: a write naming a Version that is no longer current.
  await wantError(
    "stale Version",
    gz.CreateSecurityGroupPolicies({
      SecurityGroupId: groupId,
      SecurityGroupPolicySet: {
        Version: "1",
        Ingress: [{ Protocol: "UDP", Port: "53", CidrBlock: "10.0.0.0/8", Action: "ACCEPT" }],
      },
    }),
    "UnsupportedOperation.VersionMismatch",
  );

  // Bad input: a malformed CIDR.
  const bad = await wantError(
    "malformed CidrBlock",
    gz.CreateSecurityGroupPolicies({
      SecurityGroupId: groupId,
      SecurityGroupPolicySet: {
        Ingress: [{ Protocol: "TCP", Port: "8080", CidrBlock: "10.0.0.0/33", Action: "ACCEPT" }],
      },
    }),
    "InvalidParameterValue.Malformed",
  );
  check("the error names the value", bad.message.includes("10.0.0.0/33"), bad.message);
  check("the error carries a RequestId", typeof bad.requestId === "string" && bad.requestId !== "", `RequestId ${bad.requestId}`);

  // Nothing changed.
  const after = await gz.DescribeSecurityGroupPolicies({ SecurityGroupId: groupId });
  check("rejected writes change nothing", after.SecurityGroupPolicySet.Version === "2", `Version ${after.SecurityGroupPolicySet.Version}`);

  // Clone into Shanghai: the request goes to the target region and names
  // the source's region.
  const cloned = await sh.CloneSecurityGroup({
    SecurityGroupId: groupId,
    RemoteRegion: "ap-guangzhou",
    GroupName: "node-web-copy",
  });
  const cloneId = cloned.SecurityGroup.SecurityGroupId;
  check("CloneSecurityGroup", cloneId && cloneId !== groupId, `clone ${cloneId}`);
  const clonedSet = (await sh.DescribeSecurityGroupPolicies({ SecurityGroupId: cloneId })).SecurityGroupPolicySet;
  check(
    "the clone has the rules",
    clonedSet.Ingress.length === 2 && clonedSet.Egress.length === 1 && clonedSet.Ingress[0].Port === "22",
    JSON.stringify(clonedSet.Ingress),
  );
  await wantError(
    "the clone is not in Guangzhou",
    gz.DescribeSecurityGroupPolicies({ SecurityGroupId: cloneId }),
    "ResourceNotFound",
  );
}

main().then(
  () => console.log("scenario passed"),
  (err) => {
    console.error(`scenario failed: ${err.message}`);
    process.exit(1);
  },
);
