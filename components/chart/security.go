package chart

// PodSecurityContext is a chart's pod securityContext value, with the
// fields Pod Security's restricted level checks.
type PodSecurityContext struct {
	RunAsNonRoot   bool            `json:"runAsNonRoot"`
	RunAsUser      int64           `json:"runAsUser,omitempty"`
	RunAsGroup     int64           `json:"runAsGroup,omitempty"`
	FSGroup        int64           `json:"fsGroup,omitempty"`
	SeccompProfile *SeccompProfile `json:"seccompProfile,omitempty"`
}

// ContainerSecurityContext is a chart's container securityContext value.
type ContainerSecurityContext struct {
	AllowPrivilegeEscalation bool            `json:"allowPrivilegeEscalation"`
	ReadOnlyRootFilesystem   bool            `json:"readOnlyRootFilesystem"`
	RunAsNonRoot             bool            `json:"runAsNonRoot,omitempty"`
	Capabilities             *Capabilities   `json:"capabilities,omitempty"`
	SeccompProfile           *SeccompProfile `json:"seccompProfile,omitempty"`
}

// SeccompProfile names a seccomp profile type.
type SeccompProfile struct {
	Type string `json:"type"`
}

// Capabilities drops (and adds) Linux capabilities.
type Capabilities struct {
	Drop []string `json:"drop,omitempty"`
}

// RestrictedPod runs the pod as uid (non-root) with the runtime's seccomp
// profile: what Pod Security's restricted level asks of a pod.
func RestrictedPod(uid int64) PodSecurityContext {
	return PodSecurityContext{RunAsNonRoot: true, RunAsUser: uid, SeccompProfile: &SeccompProfile{Type: "RuntimeDefault"}}
}

// RestrictedContainer: no privilege escalation, every capability dropped,
// a read-only root file system.
func RestrictedContainer() ContainerSecurityContext {
	return ContainerSecurityContext{AllowPrivilegeEscalation: false, ReadOnlyRootFilesystem: true,
		Capabilities: &Capabilities{Drop: []string{"ALL"}}}
}
