package audit

// registry is the catalogue, in ID order. A check that is not listed here
// does not run; TestCatalogue checks the order, the fields and that every
// check has a passing and a failing test case.
var registry = []*Check{
	&untrustedRegistry, &mutableTag, &noDigest, &largeImage,
	&meshMTLS,
	&defaultDenyIngress, &defaultDenyEgress, &openToInternet, &openToAllNamespaces, &unselectedPods, &crossEnvironment,
	&cniNetworkPolicy, &cniTiers, &anonymousAuth, &insecurePort, &alwaysAllow, &auditLog, &exposedAdmin,
	&privileged, &capabilities, &defaultCaps, &hostNetwork, &hostPID, &hostIPC, &hostPort, &runAsRoot,
	&privilegeEscalation, &serviceAccountToken, &envFromSecret, &plaintextCredentials,
}
