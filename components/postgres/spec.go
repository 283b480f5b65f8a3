package postgres

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/chart"
)

// The custom resources' specs, typed with the CRDs' field names
// (postgresql.cnpg.io/v1 of CloudNativePG 1.30.0, barmancloud.cnpg.io/v1
// of the Barman Cloud plugin v0.13.0); chart.ToValues turns them into the
// objects' spec, and the conformance tier checks them against those CRDs.

// PluginName is the Barman Cloud plugin's CNPG-I name.
const PluginName = "barman-cloud.cloudnative-pg.io"

type clusterSpec struct {
	Instances             int                              `json:"instances"`
	ImageName             string                           `json:"imageName"`
	PrimaryUpdateStrategy string                           `json:"primaryUpdateStrategy"`
	PrimaryUpdateMethod   string                           `json:"primaryUpdateMethod"`
	Storage               storage                          `json:"storage"`
	WalStorage            storage                          `json:"walStorage"`
	Resources             chart.Resources                  `json:"resources"`
	Affinity              affinity                         `json:"affinity"`
	TopologySpread        []chart.TopologySpreadConstraint `json:"topologySpreadConstraints"`
	PostgreSQL            postgresConfig                   `json:"postgresql"`
	ReplicationSlots      replicationSlots                 `json:"replicationSlots"`
	Bootstrap             bootstrap                        `json:"bootstrap"`
	Managed               managed                          `json:"managed"`
	ExternalClusters      []externalCluster                `json:"externalClusters,omitempty"`
	Replica               *replica                         `json:"replica,omitempty"`
	Plugins               []plugin                         `json:"plugins"`
	ServiceAccount        serviceAccountTemplate           `json:"serviceAccountTemplate"`
	EnablePDB             bool                             `json:"enablePDB"`
	Certificates          certificates                     `json:"certificates"`
}

type storage struct {
	StorageClass string `json:"storageClass"`
	Size         string `json:"size"`
}

type affinity struct {
	EnablePodAntiAffinity bool   `json:"enablePodAntiAffinity"`
	TopologyKey           string `json:"topologyKey"`
	PodAntiAffinityType   string `json:"podAntiAffinityType"`
}

type postgresConfig struct {
	Parameters  map[string]string `json:"parameters"`
	PgHBA       []string          `json:"pg_hba"`
	Synchronous synchronous       `json:"synchronous"`
}

type synchronous struct {
	Method          string   `json:"method"`
	Number          int      `json:"number"`
	DataDurability  string   `json:"dataDurability"`
	StandbyNamesPre []string `json:"standbyNamesPre,omitempty"`
}

type replicationSlots struct {
	HighAvailability enabledFlag `json:"highAvailability"`
	UpdateInterval   int         `json:"updateInterval"`
}

type enabledFlag struct {
	Enabled bool `json:"enabled"`
}

type bootstrap struct {
	InitDB   *initDB   `json:"initdb,omitempty"`
	Recovery *recovery `json:"recovery,omitempty"`
}

type initDB struct {
	Database      string   `json:"database"`
	Owner         string   `json:"owner"`
	Secret        localRef `json:"secret"`
	DataChecksums bool     `json:"dataChecksums"`
	Encoding      string   `json:"encoding"`
	LocaleCType   string   `json:"localeCType"`
	LocaleCollate string   `json:"localeCollate"`
}

type recovery struct {
	Source   string   `json:"source"`
	Database string   `json:"database"`
	Owner    string   `json:"owner"`
	Secret   localRef `json:"secret"`
}

type localRef struct {
	Name string `json:"name"`
}

type secretKeyRef struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

type managed struct {
	Roles []role `json:"roles"`
}

type role struct {
	Name            string   `json:"name"`
	Ensure          string   `json:"ensure"`
	Login           bool     `json:"login"`
	Replication     bool     `json:"replication"`
	ConnectionLimit int      `json:"connectionLimit"`
	PasswordSecret  localRef `json:"passwordSecret"`
	Comment         string   `json:"comment"`
}

type externalCluster struct {
	Name                 string            `json:"name"`
	ConnectionParameters map[string]string `json:"connectionParameters,omitempty"`
	Password             *secretKeyRef     `json:"password,omitempty"`
	SSLRootCert          *secretKeyRef     `json:"sslRootCert,omitempty"`
	Plugin               plugin            `json:"plugin"`
}

type plugin struct {
	Name          string            `json:"name"`
	IsWALArchiver *bool             `json:"isWALArchiver,omitempty"`
	Parameters    map[string]string `json:"parameters"`
}

type replica struct {
	Self           string `json:"self"`
	Primary        string `json:"primary"`
	Source         string `json:"source"`
	PromotionToken string `json:"promotionToken,omitempty"`
}

type serviceAccountTemplate struct {
	Metadata objectMeta `json:"metadata"`
}

type objectMeta struct {
	Annotations map[string]pulumi.StringInput `json:"annotations"`
}

// objectStoreSpec is a barmancloud.cnpg.io/v1 ObjectStore.
type objectStoreSpec struct {
	Configuration   storeConfiguration `json:"configuration"`
	RetentionPolicy string             `json:"retentionPolicy,omitempty"`
	Sidecar         sidecar            `json:"instanceSidecarConfiguration"`
}

type storeConfiguration struct {
	DestinationPath string        `json:"destinationPath"`
	S3Credentials   s3Credentials `json:"s3Credentials"`
	Wal             walConfig     `json:"wal"`
	Data            dataConfig    `json:"data"`
}

type s3Credentials struct {
	InheritFromIAMRole bool `json:"inheritFromIAMRole"`
}

type walConfig struct {
	Compression string `json:"compression"`
	MaxParallel int    `json:"maxParallel"`
}

type dataConfig struct {
	Compression string `json:"compression"`
	Jobs        int    `json:"jobs"`
}

type sidecar struct {
	Resources chart.Resources `json:"resources"`
}

// scheduledBackupSpec is a postgresql.cnpg.io/v1 ScheduledBackup.
type scheduledBackupSpec struct {
	Schedule             string       `json:"schedule"`
	Immediate            bool         `json:"immediate"`
	Cluster              localRef     `json:"cluster"`
	Method               string       `json:"method"`
	Target               string       `json:"target"`
	BackupOwnerReference string       `json:"backupOwnerReference"`
	PluginConfiguration  backupPlugin `json:"pluginConfiguration"`
}

type backupPlugin struct {
	Name string `json:"name"`
}
