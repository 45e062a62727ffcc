// Adds login monitoring to an existing TypeScript program. Before the first run:
//   pulumi package add https://github.com/your-org/login-monitoring/plugin@v0.1.0
// which generates the SDK under sdks/loginmonitoring and adds it to package.json.
import * as pulumi from "@pulumi/pulumi";
import * as loginmonitoring from "@login-monitoring/loginmonitoring";

const config = new pulumi.Config();

const monitoring = new loginmonitoring.LoginMonitoring("login-monitoring", {
    alertEmails: ["security@example.com", "cloud-team@example.com"],
    displayTimezone: "Europe/Berlin",
    notifyOn: "risky",
    failedSignInThreshold: 10,
    detectionProfile: "cis",
    privilegedGroups: ["Administrators", "BreakGlass"],
    tags: { team: "security" },
    // A secret stays a secret: the URL carries the hook's token.
    alertWebhookUrl: config.getSecret("alertWebhookUrl"),
});

export const alertTopicArn = monitoring.alertTopicArn;
export const signInLogGroupArn = monitoring.signInLogGroupArn;
