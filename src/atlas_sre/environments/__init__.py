"""environments room: where an investigation runs — `Environment.execute(command) -> Observation`.

    with open_scenario("mesh-subset-missing", tools=default_tools()) as env:
        env.incident, env.namespace                 # what the agent is told; its default -n
        env.execute("kubectl get pods -A").observation
    env = open_kubeconfig("~/.kube/config", tools=default_tools())   # a real cluster

Two implementations: `KubeconfigEnvironment` (a cluster through a kubeconfig) and
`ScenarioEnvironment` (a scenario the simulator serves on 127.0.0.1 for the environment's life;
it adds `truth` and `name`, for grading only). Tools such as `analyze` are passed in.
"""

from atlas_sre.environments.base import ClusterUnavailable, Environment, Observation
from atlas_sre.environments.kubeconfig import KubeconfigEnvironment, open_kubeconfig
from atlas_sre.environments.scenario import ScenarioEnvironment, load_scenario, open_scenario
from atlas_sre.environments.tools import default_tools

__all__ = [
    "ClusterUnavailable",
    "Environment",
    "KubeconfigEnvironment",
    "Observation",
    "ScenarioEnvironment",
    "default_tools",
    "load_scenario",
    "open_kubeconfig",
    "open_scenario",
]
