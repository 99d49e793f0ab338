// Names of the kernel links nodeplaned creates for pod ports in its own namespace, and the sweep
// that removes those a crashed nodeplaned left behind. A tap vanishes with the process that held
// it; a veth host end (af_packet pod ports) stays until someone deletes it.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace nodeplane::ctl {

// "np" + pid (6 hex digits) + sequence (6 hex digits): 14 characters, so the veth peer's
// temporary name (+ "p") still fits the kernel's 15.
std::string PodLinkName(uint32_t pid, uint32_t seq);
// The pid a name made by PodLinkName carries; nullopt for any other name.
std::optional<uint32_t> PodLinkOwner(const std::string& name);

// Deletes every pod link in this namespace whose owner is not a running nodeplaned. Returns how
// many it removed.
int RemoveStalePodLinks();

}  // namespace nodeplane::ctl
