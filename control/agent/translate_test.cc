// Translation of real Kubernetes JSON (as `kubectl get -o json` prints it) into API messages.
#include "control/agent/translate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace nodeplane::agent {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

const char kPod[] = R"({
  "apiVersion": "v1", "kind": "Pod",
  "metadata": {"name": "backend-7d9f", "namespace": "shop", "resourceVersion": "4711",
               "labels": {"app": "backend", "tier": "api"}},
  "spec": {"nodeName": "node-a",
           "containers": [{"name": "api", "image": "x",
                           "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"},
                                     {"containerPort": 9090}]},
                          {"name": "dns", "image": "y",
                           "ports": [{"name": "dns", "containerPort": 53, "protocol": "UDP"}]}]},
  "status": {"phase": "Running", "podIP": "10.244.1.5",
             "podIPs": [{"ip": "10.244.1.5"}, {"ip": "fd00::5"}]}
})";

TEST(TranslatePod, EveryFieldTheDataplaneUses) {
  auto pod = PodFromJson(Json::parse(kPod));
  ASSERT_TRUE(pod.ok()) << pod.status();
  ASSERT_TRUE(pod->has_value());
  const v1::Pod& p = **pod;
  EXPECT_EQ(p.key().namespace_(), "shop");
  EXPECT_EQ(p.key().name(), "backend-7d9f");
  EXPECT_THAT(p.ips(), ElementsAre("10.244.1.5"));  // the IPv6 address is left out
  EXPECT_THAT(p.labels(), UnorderedElementsAre(Pair("app", "backend"), Pair("tier", "api")));
  EXPECT_EQ(p.node_name(), "node-a");
  ASSERT_EQ(p.ports_size(), 3);
  EXPECT_EQ(p.ports(0).name(), "http");
  EXPECT_EQ(p.ports(0).port(), 8080u);
  EXPECT_EQ(p.ports(1).protocol(), v1::TCP);  // protocol defaults to TCP
  EXPECT_EQ(p.ports(2).protocol(), v1::UDP);
}

TEST(TranslatePod, HostNetworkPendingAndFinishedPodsAreNotDataplaneObjects) {
  for (const char* patch : {R"({"spec": {"hostNetwork": true}})",
                            R"({"status": {"phase": "Pending", "podIP": null, "podIPs": null}})",
                            R"({"status": {"phase": "Succeeded"}})"}) {
    Json j = Json::parse(kPod);
    j.merge_patch(Json::parse(patch));
    auto pod = PodFromJson(j);
    ASSERT_TRUE(pod.ok()) << pod.status();
    EXPECT_FALSE(pod->has_value()) << patch;
  }
}

TEST(TranslatePod, BadFieldsNameTheObjectAndTheField) {
  Json j = Json::parse(kPod);
  j["spec"]["containers"][0]["ports"][1]["containerPort"] = 70000;
  EXPECT_EQ(PodFromJson(j).status().message(),
            "Pod shop/backend-7d9f: spec.containers[0].ports[1].containerPort: 70000 outside 1-65535");
  j = Json::parse(kPod);
  j["status"]["podIPs"][0]["ip"] = "10.244.1";
  EXPECT_EQ(PodFromJson(j).status().message(),
            "Pod shop/backend-7d9f: status.podIPs[0].ip: not an IP address: \"10.244.1\"");
  j = Json::parse(kPod);
  j["metadata"]["labels"]["app"] = 7;
  EXPECT_EQ(PodFromJson(j).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(PodFromJson(j).status().message(), HasSubstr("metadata.labels.app: expected a string"));
  EXPECT_THAT(PodFromJson(Json::parse(R"({"metadata": {}})")).status().message(),
              HasSubstr("metadata.name: required"));
  EXPECT_THAT(PodFromJson(Json::parse("[1]")).status().message(), HasSubstr("not a JSON object"));
}

const char kService[] = R"({
  "apiVersion": "v1", "kind": "Service",
  "metadata": {"name": "public-api", "namespace": "shop", "labels": {"app": "public-api"}},
  "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.20", "clusterIPs": ["10.96.0.20", "fd00::20"],
           "externalIPs": ["192.0.2.7"],
           "ports": [{"name": "https", "protocol": "TCP", "port": 443, "targetPort": 8443,
                      "nodePort": 31443},
                     {"name": "metrics", "port": 9100, "targetPort": "metrics", "nodePort": 31900},
                     {"name": "plain", "protocol": "UDP", "port": 53}],
           "externalTrafficPolicy": "Local", "internalTrafficPolicy": "Cluster",
           "healthCheckNodePort": 32000,
           "sessionAffinity": "ClientIP", "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 600}},
           "loadBalancerSourceRanges": ["203.0.113.0/24", " 198.51.100.0/25 "],
           "trafficDistribution": "PreferClose", "selector": {"app": "public-api"}},
  "status": {"loadBalancer": {"ingress": [{"ip": "198.51.100.10"}, {"hostname": "lb.example"}]}}
})";

TEST(TranslateService, EveryField) {
  auto s = ServiceFromJson(Json::parse(kService));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->key().namespace_(), "shop");
  EXPECT_EQ(s->type(), v1::LOAD_BALANCER);
  EXPECT_THAT(s->cluster_ips(), ElementsAre("10.96.0.20"));
  EXPECT_THAT(s->external_ips(), ElementsAre("192.0.2.7"));
  EXPECT_THAT(s->load_balancer_ips(), ElementsAre("198.51.100.10"));
  ASSERT_EQ(s->ports_size(), 3);
  EXPECT_EQ(s->ports(0).port(), 443u);
  EXPECT_EQ(s->ports(0).target_port_number(), 8443u);
  EXPECT_EQ(s->ports(0).node_port(), 31443u);
  EXPECT_EQ(s->ports(1).target_port_name(), "metrics");
  EXPECT_EQ(s->ports(1).protocol(), v1::TCP);
  EXPECT_EQ(s->ports(2).protocol(), v1::UDP);
  EXPECT_EQ(s->ports(2).target_port_number(), 53u);  // targetPort defaults to port
  EXPECT_EQ(s->external_traffic_policy(), v1::LOCAL);
  EXPECT_EQ(s->internal_traffic_policy(), v1::CLUSTER);
  EXPECT_EQ(s->health_check_node_port(), 32000u);
  ASSERT_TRUE(s->has_client_ip_affinity());
  EXPECT_EQ(s->client_ip_affinity().timeout_seconds(), 600u);
  EXPECT_THAT(s->load_balancer_source_ranges(), ElementsAre("203.0.113.0/24", "198.51.100.0/25"));
  EXPECT_EQ(s->traffic_distribution(), "PreferClose");
  EXPECT_THAT(s->labels(), ElementsAre(Pair("app", "public-api")));
}

TEST(TranslateService, HeadlessExternalNameAndDefaults) {
  auto headless = ServiceFromJson(Json::parse(R"({"metadata": {"name": "cassandra"},
      "spec": {"clusterIP": "None", "ports": [{"port": 9042}]}})"));
  ASSERT_TRUE(headless.ok()) << headless.status();
  EXPECT_EQ(headless->type(), v1::CLUSTER_IP);
  EXPECT_EQ(headless->key().namespace_(), "default");
  EXPECT_THAT(headless->cluster_ips(), ElementsAre("None"));
  EXPECT_FALSE(headless->has_client_ip_affinity());
  auto external = ServiceFromJson(Json::parse(R"({"metadata": {"name": "external-db"},
      "spec": {"type": "ExternalName", "externalName": "db.example.com"}})"));
  ASSERT_TRUE(external.ok()) << external.status();
  EXPECT_EQ(external->type(), v1::EXTERNAL_NAME);
  EXPECT_TRUE(external->cluster_ips().empty());
}

TEST(TranslateService, NumericStringTargetPortIsANumber) {
  Json j = Json::parse(kService);
  j["spec"]["ports"][0]["targetPort"] = "8443";
  auto s = ServiceFromJson(j);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->ports(0).target_port_number(), 8443u);
}

TEST(TranslateService, Errors) {
  struct Case { const char* patch; const char* message; };
  const Case cases[] = {
      {R"({"spec": {"type": "Balanced"}})",
       "Service shop/public-api: spec.type: unknown Service type \"Balanced\" (ClusterIP, "
       "NodePort, LoadBalancer or ExternalName)"},
      {R"({"spec": {"clusterIPs": ["10.96.0.300"]}})",
       "Service shop/public-api: spec.clusterIPs[0]: not an IP address: \"10.96.0.300\""},
      {R"({"spec": {"loadBalancerSourceRanges": ["203.0.113.0/33"]}})",
       "Service shop/public-api: spec.loadBalancerSourceRanges[0]: not a CIDR: \"203.0.113.0/33\""},
      {R"({"spec": {"externalTrafficPolicy": "Nearest"}})",
       "Service shop/public-api: spec.externalTrafficPolicy: unknown traffic policy \"Nearest\" "
       "(Cluster or Local)"},
      {R"({"spec": {"sessionAffinity": "Cookie"}})",
       "Service shop/public-api: spec.sessionAffinity: unknown session affinity \"Cookie\" (None "
       "or ClientIP)"},
      {R"({"spec": {"ports": [{"port": 443, "protocol": "ICMP"}]}})",
       "Service shop/public-api: spec.ports[0].protocol: unknown protocol \"ICMP\" (TCP, UDP or "
       "SCTP)"},
      {R"({"spec": {"ports": [{"name": "x"}]}})", "Service shop/public-api: spec.ports[0].port: required"},
      {R"({"spec": {"ports": [{"port": 80, "targetPort": 0}]}})",
       "Service shop/public-api: spec.ports[0].targetPort: 0 outside 1-65535"},
  };
  for (const Case& c : cases) {
    Json j = Json::parse(kService);
    j.merge_patch(Json::parse(c.patch));
    auto s = ServiceFromJson(j);
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << c.patch;
    EXPECT_EQ(s.status().message(), c.message) << c.patch;
  }
}

const char kSlice[] = R"({
  "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
  "metadata": {"name": "backend-api-x7k2p", "namespace": "shop",
               "labels": {"kubernetes.io/service-name": "backend-api",
                          "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}},
  "addressType": "IPv4",
  "endpoints": [
    {"addresses": ["10.244.1.5"], "conditions": {}, "nodeName": "node-a", "zone": "z1",
     "hints": {"forZones": [{"name": "z1"}], "forNodes": [{"name": "node-a"}]},
     "targetRef": {"kind": "Pod", "namespace": "shop", "name": "backend-7d9f", "uid": "u1"}},
    {"addresses": ["10.244.2.9"], "conditions": {"ready": false, "serving": true, "terminating": true},
     "nodeName": "node-b", "targetRef": {"kind": "Pod", "name": "backend-2"}}],
  "ports": [{"name": "http", "protocol": "TCP", "port": 8080}]
})";

TEST(TranslateEndpointSlice, ConditionsTargetRefsAndPorts) {
  auto s = EndpointSliceFromJson(Json::parse(kSlice));
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_TRUE(s->has_value());
  const v1::EndpointSlice& slice = **s;
  EXPECT_EQ(slice.service_name(), "backend-api");
  EXPECT_EQ(slice.address_type(), "IPv4");
  ASSERT_EQ(slice.endpoints_size(), 2);
  const v1::Endpoint& a = slice.endpoints(0);
  // Unset conditions: ready and serving true, terminating false.
  EXPECT_TRUE(a.conditions().ready());
  EXPECT_TRUE(a.conditions().serving());
  EXPECT_FALSE(a.conditions().terminating());
  EXPECT_EQ(a.node_name(), "node-a");
  EXPECT_EQ(a.zone(), "z1");
  EXPECT_THAT(a.zone_hints(), ElementsAre("z1"));
  EXPECT_THAT(a.node_hints(), ElementsAre("node-a"));
  EXPECT_EQ(a.target_pod().name(), "backend-7d9f");
  const v1::Endpoint& b = slice.endpoints(1);
  EXPECT_FALSE(b.conditions().ready());
  EXPECT_TRUE(b.conditions().terminating());
  EXPECT_EQ(b.target_pod().namespace_(), "shop");  // targetRef without namespace: the slice's
  ASSERT_EQ(slice.ports_size(), 1);
  EXPECT_EQ(slice.ports(0).port(), 8080u);
  EXPECT_EQ(slice.ports(0).name(), "http");
}

TEST(TranslateEndpointSlice, SlicesOfNoServiceAndOtherFamiliesAreSkipped) {
  Json no_owner = Json::parse(kSlice);
  no_owner["metadata"]["labels"].erase("kubernetes.io/service-name");
  Json v6 = Json::parse(kSlice);
  v6["addressType"] = "IPv6";
  for (const Json& j : {no_owner, v6}) {
    auto s = EndpointSliceFromJson(j);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_FALSE(s->has_value());
  }
  Json bad = Json::parse(kSlice);
  bad["endpoints"][1]["addresses"][0] = "10.244.2";
  EXPECT_EQ(EndpointSliceFromJson(bad).status().message(),
            "EndpointSlice shop/backend-api-x7k2p: endpoints[1].addresses[0]: not an IPv4 address: "
            "\"10.244.2\"");
  Json bad_condition = Json::parse(kSlice);
  bad_condition["endpoints"][0]["conditions"]["ready"] = "yes";
  EXPECT_THAT(EndpointSliceFromJson(bad_condition).status().message(),
              HasSubstr("endpoints[0].conditions.ready: expected a boolean"));
}

const char kPolicy[] = R"({
  "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
  "metadata": {"name": "backend-egress", "namespace": "shop"},
  "spec": {
    "podSelector": {"matchLabels": {"app": "backend"}},
    "policyTypes": ["Ingress", "Egress"],
    "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "frontend"}}},
                          {"namespaceSelector": {}, "podSelector": {"matchExpressions":
                              [{"key": "role", "operator": "In", "values": ["monitor"]}]}},
                          {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}],
                 "ports": [{"protocol": "TCP", "port": 8080}, {"port": "metrics"},
                           {"protocol": "TCP", "port": 30000, "endPort": 30100}]}],
    "egress": [{"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
               {}]
  }
})";

TEST(TranslateNetworkPolicy, EveryField) {
  auto p = NetworkPolicyFromJson(Json::parse(kPolicy));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->pod_selector().match_labels(), ElementsAre(Pair("app", "backend")));
  EXPECT_THAT(p->policy_types(), ElementsAre(v1::INGRESS, v1::EGRESS));
  ASSERT_EQ(p->ingress_size(), 1);
  const v1::NetworkPolicyRule& in = p->ingress(0);
  ASSERT_EQ(in.peers_size(), 3);
  EXPECT_TRUE(in.peers(0).has_pod_selector());
  EXPECT_FALSE(in.peers(0).has_namespace_selector());  // absent stays absent
  EXPECT_TRUE(in.peers(1).has_namespace_selector());   // {} stays present (all namespaces)
  EXPECT_EQ(in.peers(1).pod_selector().match_expressions(0).operator_(), "In");
  EXPECT_EQ(in.peers(2).ip_block().cidr(), "10.0.0.0/8");
  EXPECT_THAT(in.peers(2).ip_block().except(), ElementsAre("10.1.0.0/16"));
  ASSERT_EQ(in.ports_size(), 3);
  EXPECT_EQ(in.ports(0).port_number(), 8080u);
  EXPECT_EQ(in.ports(1).port_name(), "metrics");
  EXPECT_EQ(in.ports(1).protocol(), v1::TCP);
  EXPECT_EQ(in.ports(2).end_port(), 30100u);
  ASSERT_EQ(p->egress_size(), 2);
  EXPECT_EQ(p->egress(0).ports(0).protocol(), v1::UDP);
  EXPECT_EQ(p->egress(1).ports_size(), 0);  // {}: every port to every peer
  EXPECT_EQ(p->egress(1).peers_size(), 0);
}

TEST(TranslateNetworkPolicy, Errors) {
  struct Case { const char* patch; const char* message; };
  const Case cases[] = {
      {R"({"spec": {"podSelector": null}})",
       "NetworkPolicy shop/backend-egress: spec.podSelector: required (use {} for every pod)"},
      {R"({"spec": {"policyTypes": ["Both"]}})",
       "NetworkPolicy shop/backend-egress: spec.policyTypes[0]: unknown policy type \"Both\" "
       "(Ingress or Egress)"},
      {R"({"spec": {"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/40"}}]}]}})",
       "NetworkPolicy shop/backend-egress: spec.ingress[0].from[0].ipBlock.cidr: not a CIDR: "
       "\"10.0.0.0/40\""},
      {R"({"spec": {"ingress": [{"from": [{"podSelector": {"matchExpressions": [{"key": "a",
          "operator": "Near"}]}}]}]}})",
       "NetworkPolicy shop/backend-egress: spec.ingress[0].from[0].podSelector."
       "matchExpressions[0].operator: unknown operator \"Near\" (In, NotIn, Exists, DoesNotExist)"},
      {R"({"spec": {"egress": [{"ports": [{"port": "dns", "endPort": 60}]}]}})",
       "NetworkPolicy shop/backend-egress: spec.egress[0].ports[0].endPort: requires a numeric "
       "port"},
      {R"({"spec": {"egress": [{"ports": [{"port": 100, "endPort": 60}]}]}})",
       "NetworkPolicy shop/backend-egress: spec.egress[0].ports[0].endPort: 60 outside 100-65535"},
      {R"({"spec": {"egress": [{"to": [{}]}]}})",
       "NetworkPolicy shop/backend-egress: spec.egress[0].to[0]: a peer needs podSelector, "
       "namespaceSelector or ipBlock"},
  };
  for (const Case& c : cases) {
    Json j = Json::parse(kPolicy);
    j.merge_patch(Json::parse(c.patch));
    EXPECT_EQ(NetworkPolicyFromJson(j).status().message(), c.message) << c.patch;
  }
}

TEST(TranslateNode, AddressesAndPodCidrs) {
  auto n = NodeFromJson(Json::parse(R"({"kind": "Node", "metadata": {"name": "node-b"},
      "spec": {"podCIDR": "10.244.2.0/24", "podCIDRs": ["10.244.2.0/24", "fd00:2::/64"]},
      "status": {"addresses": [{"type": "Hostname", "address": "node-b"},
                               {"type": "InternalIP", "address": "192.168.1.12"},
                               {"type": "ExternalIP", "address": "203.0.113.12"}]}})"));
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->name, "node-b");
  EXPECT_EQ(n->internal_ip, "192.168.1.12");
  EXPECT_THAT(n->addresses, ElementsAre("192.168.1.12", "203.0.113.12"));
  EXPECT_THAT(n->pod_cidrs, ElementsAre("10.244.2.0/24"));
  EXPECT_EQ(NodeFromJson(Json::parse(R"({"metadata": {"name": "n"},
      "spec": {"podCIDRs": ["10.244.2.0"]}})")).status().message(),
            "Node n: spec.podCIDRs[0]: not a CIDR: \"10.244.2.0\"");
}

TEST(TranslateNode, VtepMacFromOurAnnotationOrFlannels) {
  auto ours = NodeFromJson(Json::parse(R"({"metadata": {"name": "n",
      "annotations": {"nodeplane.io/vtep-mac": "02:77:00:00:00:02"}}})"));
  ASSERT_TRUE(ours.ok()) << ours.status();
  EXPECT_EQ(ours->vtep_mac, "02:77:00:00:00:02");
  auto flannel = NodeFromJson(Json::parse(R"({"metadata": {"name": "n", "annotations": {
      "flannel.alpha.coreos.com/backend-data": "{\"VNI\":1,\"VtepMAC\":\"6e:2b:9c:11:22:33\"}"}}})"));
  ASSERT_TRUE(flannel.ok()) << flannel.status();
  EXPECT_EQ(flannel->vtep_mac, "6e:2b:9c:11:22:33");
  EXPECT_EQ(NodeFromJson(Json::parse(R"({"metadata": {"name": "n",
      "annotations": {"nodeplane.io/vtep-mac": "02:77"}}})")).status().message(),
            "Node n: metadata.annotations: not a MAC address: \"02:77\"");
}

TEST(TranslateNode, ZoneFromTheTopologyLabel) {
  auto n = NodeFromJson(Json::parse(R"({"metadata": {"name": "n",
      "labels": {"topology.kubernetes.io/zone": "eu-west-1a", "kubernetes.io/os": "linux"}}})"));
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->zone, "eu-west-1a");
  auto none = NodeFromJson(Json::parse(R"({"metadata": {"name": "n"}})"));
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->zone, "");
}

TEST(TranslateNamespace, LabelsIncludeTheMetadataNameLabel) {
  auto ns = NamespaceFromJson(Json::parse(R"({"metadata": {"name": "shop", "labels": {"team": "a"}}})"));
  ASSERT_TRUE(ns.ok()) << ns.status();
  EXPECT_THAT(ns->labels(), UnorderedElementsAre(Pair("team", "a"),
                                                 Pair("kubernetes.io/metadata.name", "shop")));
}

TEST(TranslateKinds, NamesAndKeys) {
  EXPECT_EQ(KindFromManifest("networking.k8s.io/v1", "NetworkPolicy"), Kind::kNetworkPolicy);
  EXPECT_EQ(KindFromManifest("apps/v1", "Deployment"), std::nullopt);
  EXPECT_EQ(KindFromManifest("v1", "EndpointSlice"), std::nullopt);
  EXPECT_EQ(KindFromName("networkpolicies"), Kind::kNetworkPolicy);
  EXPECT_EQ(KindFromName("Services"), Kind::kService);
  EXPECT_EQ(*ObjectKey(Kind::kPod, Json::parse(kPod)), "shop/backend-7d9f");
  EXPECT_EQ(*ObjectKey(Kind::kNode, Json::parse(R"({"metadata": {"name": "n1"}})")), "n1");
}

}  // namespace
}  // namespace nodeplane::agent
