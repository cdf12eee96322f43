package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

const (
	storageClassName = "kwok-volume" // the name kwok's volume stages select on
	ingressClassName = "nginx"
)

func newAPIClient(kubeconfigPath string) (*kubernetes.Clientset, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfigPath)
	if err != nil {
		return nil, err
	}
	cfg.QPS = 50
	cfg.Burst = 100
	cfg.Timeout = 10 * time.Second
	return kubernetes.NewForConfig(cfg)
}

// poll calls fn every interval until it returns true, or ctx ends.
func poll(ctx context.Context, interval time.Duration, fn func(context.Context) (bool, error)) error {
	var last error
	for {
		ok, err := fn(ctx)
		if ok && err == nil {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last == nil {
				last = errors.New("condition not met")
			}
			return last
		case <-time.After(interval):
		}
	}
}

func waitEtcd(ctx context.Context, url string) error {
	hc := &http.Client{Timeout: 2 * time.Second}
	return poll(ctx, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/health", nil)
		if err != nil {
			return false, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return false, err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false, fmt.Errorf("etcd /health: %s", resp.Status)
		}
		return true, nil
	})
}

func waitReadyz(ctx context.Context, c *kubernetes.Clientset) error {
	return poll(ctx, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		body, err := c.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			return false, fmt.Errorf("/readyz: %v: %s", err, string(body))
		}
		return string(body) == "ok", nil
	})
}

func bootstrap(ctx context.Context, c *kubernetes.Clientset, o upOptions, nodes []string) error {
	create := func(what string, fn func(context.Context) error) error {
		return poll(ctx, 300*time.Millisecond, func(ctx context.Context) (bool, error) {
			err := fn(ctx)
			if err == nil || apierrors.IsAlreadyExists(err) {
				return true, nil
			}
			return false, fmt.Errorf("create %s: %w", what, err)
		})
	}

	resources := corev1.ResourceList{}
	for name, value := range map[corev1.ResourceName]string{
		corev1.ResourceCPU:              o.nodeCPU,
		corev1.ResourceMemory:           o.nodeMemory,
		corev1.ResourcePods:             o.nodePods,
		corev1.ResourceEphemeralStorage: "1Ti",
	} {
		q, err := resource.ParseQuantity(value)
		if err != nil {
			return fmt.Errorf("node %s %q: %w", name, value, err)
		}
		resources[name] = q
	}
	for _, name := range nodes {
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name: name,
				Labels: map[string]string{
					"kubernetes.io/hostname": name,
					"kubernetes.io/os":       "linux",
					"kubernetes.io/arch":     "amd64",
					"type":                   "kwok",
				},
				Annotations: map[string]string{
					"kwok.x-k8s.io/node":           "fake",
					"node.alpha.kubernetes.io/ttl": "0",
				},
			},
			Status: corev1.NodeStatus{
				Capacity:    resources.DeepCopy(),
				Allocatable: resources.DeepCopy(),
			},
		}
		if err := create("node "+name, func(ctx context.Context) error {
			_, err := c.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
			return err
		}); err != nil {
			return err
		}
	}

	immediate := storagev1.VolumeBindingImmediate
	reclaim := corev1.PersistentVolumeReclaimDelete
	sc := &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{
			Name:        storageClassName,
			Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"},
		},
		Provisioner:       "kwok.x-k8s.io/volume",
		ReclaimPolicy:     &reclaim,
		VolumeBindingMode: &immediate,
	}
	if err := create("storageclass "+storageClassName, func(ctx context.Context) error {
		_, err := c.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{})
		return err
	}); err != nil {
		return err
	}

	ic := &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{
			Name:        ingressClassName,
			Annotations: map[string]string{"ingressclass.kubernetes.io/is-default-class": "true"},
		},
		Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"},
	}
	return create("ingressclass "+ingressClassName, func(ctx context.Context) error {
		_, err := c.NetworkingV1().IngressClasses().Create(ctx, ic, metav1.CreateOptions{})
		return err
	})
}

func waitNodesReady(ctx context.Context, c *kubernetes.Clientset, nodes []string) error {
	return poll(ctx, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		for _, name := range nodes {
			n, err := c.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			ready := false
			for _, cond := range n.Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					ready = true
				}
			}
			if !ready {
				return false, fmt.Errorf("node %s not Ready yet", name)
			}
			for _, t := range n.Spec.Taints {
				if t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable {
					return false, fmt.Errorf("node %s still tainted %s", name, t.Key)
				}
			}
		}
		return true, nil
	})
}

// waitDefaultServiceAccount waits for the service-account controller: pods
// cannot be created in a namespace before its "default" ServiceAccount exists.
func waitDefaultServiceAccount(ctx context.Context, c *kubernetes.Clientset) error {
	return poll(ctx, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		_, err := c.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return true, nil
	})
}
