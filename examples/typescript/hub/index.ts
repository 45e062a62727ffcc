// The organization's hub: a program of its own, run in the security account, before any member. Members find
// it by their hubStack input, this stack's name (acme/login-monitoring-hub-typescript/hub, say), and read the
// outputs exported below under these names. Before the first run:
//   pulumi package add https://github.com/your-org/login-monitoring/plugin@v0.1.0
import * as loginmonitoring from "@login-monitoring/loginmonitoring";

const hub = new loginmonitoring.LoginMonitoringHub("login-monitoring-hub", {
    alertEmails: ["security@example.com", "soc@example.com"],
    organizationId: "o-a1b2c3d4e5",
    // Members run here besides the hub's own Region; each Region gets an observability sink.
    memberRegions: ["eu-west-1"],
    tags: { team: "security" },
});

export const hubTopicArn = hub.hubTopicArn;
export const hubTopicKeyArn = hub.hubTopicKeyArn;
export const sinkArn = hub.sinkArn;
export const sinkArns = hub.sinkArns;
export const organizationId = hub.organizationId;
export const dashboardName = hub.dashboardName;
