#!/bin/sh
# install-cni: the DaemonSet's init container. Copies nodeplane-cni and host-local onto the host
# (/opt/cni/bin) and writes the conflist with this node's pod CIDR (/etc/cni/net.d).
set -eu
SA=/var/run/secrets/kubernetes.io/serviceaccount
: "${NODE_NAME:?NODE_NAME is not set}"
APISERVER=${APISERVER:-https://${KUBERNETES_SERVICE_HOST}:${KUBERNETES_SERVICE_PORT}}

cidr=$(curl -sS --fail --cacert "$SA/ca.crt" -H "Authorization: Bearer $(cat "$SA/token")" \
         "$APISERVER/api/v1/nodes/$NODE_NAME" | jq -r '.spec.podCIDRs[0] // .spec.podCIDR // empty')
[ -n "$cidr" ] || { echo "install-cni: node $NODE_NAME has no spec.podCIDR yet" >&2; exit 1; }

for b in nodeplane-cni; do
  cp "/opt/nodeplane/bin/$b" "/host/opt/cni/bin/.$b.new" && mv "/host/opt/cni/bin/.$b.new" "/host/opt/cni/bin/$b"
done
cp /usr/lib/cni/host-local /host/opt/cni/bin/.host-local.new && mv /host/opt/cni/bin/.host-local.new /host/opt/cni/bin/host-local
sed "s|POD_CIDR|$cidr|" /etc/nodeplane/10-nodeplane.conflist > /host/etc/cni/net.d/.10-nodeplane.conflist.new
mv /host/etc/cni/net.d/.10-nodeplane.conflist.new /host/etc/cni/net.d/10-nodeplane.conflist
echo "install-cni: nodeplane-cni installed, pod CIDR $cidr"
